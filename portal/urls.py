"""``/portal/``: dashboard, apps, versions, an app's analytics and crash groups, API and signing keys,
webhooks (docs/portal.md lists every page and what it calls)."""

from django.urls import path

from .views import apps, dashboard, guide, keys, telemetry, versions, webhooks

app_name = "portal"

app = "apps/<uuid:app_id>/"
version = f"{app}versions/<uuid:version_id>/"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("guide/", guide.package_format_guide, name="guide"),
    path("apps/new/", apps.app_new, name="app-new"),
    path("markdown-preview/", apps.markdown_preview, name="markdown-preview"),
    path(app, apps.app_detail, name="app"),
    path(f"{app}edit/", apps.app_edit, name="app-edit"),
    path(f"{app}status/", apps.app_status, name="app-status"),
    path(f"{app}delete/", apps.app_delete, name="app-delete"),
    path(f"{app}versions/new/", versions.version_new, name="version-new"),
    path(version, versions.version_detail, name="version"),
    path(f"{version}status/", versions.version_status, name="version-status"),
    path(f"{version}upload-target/", versions.version_upload_target, name="version-upload-target"),
    path(f"{version}complete/", versions.version_complete, name="version-complete"),
    path(f"{version}submit/", versions.version_submit, name="version-submit"),
    path(f"{version}publish/", versions.version_publish, name="version-publish"),
    path(f"{version}yank/", versions.version_yank, name="version-yank"),
    path(f"{version}delete/", versions.version_delete, name="version-delete"),
    path(f"{app}analytics/", telemetry.app_analytics, name="app-analytics"),
    path(f"{app}crashes/", telemetry.crash_list, name="app-crashes"),
    path(f"{app}crashes/<uuid:crash_id>/", telemetry.crash_detail, name="app-crash"),
    path("keys/", keys.api_keys, name="api-keys"),
    path("keys/<uuid:key_id>/revoke/", keys.api_key_revoke, name="api-key-revoke"),
    path("signing-keys/", keys.signing_keys, name="signing-keys"),
    path("signing-keys/<uuid:key_id>/revoke/", keys.signing_key_revoke, name="signing-key-revoke"),
    path("webhooks/", webhooks.webhooks, name="webhooks"),
    path("webhooks/<uuid:webhook_id>/", webhooks.webhook_detail, name="webhook"),
    path("webhooks/<uuid:webhook_id>/ping/", webhooks.webhook_ping, name="webhook-ping"),
    path("webhooks/<uuid:webhook_id>/delete/", webhooks.webhook_delete, name="webhook-delete"),
]
