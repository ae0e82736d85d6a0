"""Back office for apps (SPEC §8): list/search/filter apps, change their state with a reason through admin
actions, set the max Mosis version, and see the activity history per app. The app page's other sections are
added by the apps above this one through ``AppAdmin.add_inlines``: versions and reviewers' comments
(``versions.admin.app_page``), abuse reports (``store.admin``).

Every write goes through ``apps.services`` (the status field is read-only in the form), so the admin, the
API and ``manage.py set_app_status`` cannot disagree: each change is locked, audited and notified. The
History button shows the app's activity events (``apps.admin_activity``), the one history.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.html import format_html

from mosis.core.admin_inlines import ReadOnlyInlineMixin
from mosis.core.errors import ApplicationError
from mosis.core.mosis_version import mosis_version_number

from .admin_activity import ActivityHistoryMixin, EventDetailsMixin
from .constants import AppStatus
from .models import ActivityEvent, App, Category, ReservedPackageId, Webhook, WebhookAttempt, WebhookDelivery
from .services import (
    EDITABLE_FIELDS,
    app_set_max_mosis_version,
    app_set_status,
    app_update,
    package_id_release,
)
from .webhooks.services import webhook_delete, webhook_ping

HIDDEN_STATES = {AppStatus.PENDING_DISABLE, AppStatus.SUSPENDED, AppStatus.DISABLED}


class ActivityInline(EventDetailsMixin, ReadOnlyInlineMixin, admin.TabularInline):
    model = ActivityEvent
    fk_name = "app"
    fields = ["created_at", "details"]
    readonly_fields = fields
    ordering = ["-created_at"]
    verbose_name_plural = "activity history (newest first)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class AppAdminForm(forms.ModelForm):
    class Meta:
        model = App
        fields = [*EDITABLE_FIELDS, "max_mosis_version_override"]

    def clean_max_mosis_version_override(self):
        value = (self.cleaned_data.get("max_mosis_version_override") or "").strip()
        try:
            mosis_version_number(value)
        except ValueError:
            raise forms.ValidationError(
                "Use MAJOR[.MINOR[.PATCH]], each part at most 3 digits (or leave blank)."
            )
        return value


class StatusActionForm(forms.Form):
    reason = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Recorded in the activity history and sent to the owner.",
    )


def _status_action(to: str, description: str, *, only_from: set | None = None):
    """An admin action moving the selected apps to ``to`` via ``app_set_status``, after a confirmation page
    that asks for the reason. Per-app refusals are reported one by one; the others still go through."""

    def action(modeladmin, request, queryset):
        if "apply" not in request.POST:
            return TemplateResponse(
                request,
                "admin/apps/app/set_status.html",
                {
                    **modeladmin.admin_site.each_context(request),
                    "title": description,
                    "apps": queryset,
                    "form": StatusActionForm(),
                    "action_name": request.POST.get("action"),
                    "target": AppStatus(to).label,
                    "opts": modeladmin.model._meta,
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                },
            )
        form = StatusActionForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        changed = 0
        for app in queryset:
            if only_from is not None and app.status not in only_from:
                modeladmin.message_user(
                    request,
                    f"{app.package_id}: not hidden (status '{app.status}'), skipped.",
                    messages.WARNING,
                )
                continue
            try:
                app_set_status(app=app, to=to, actor=request.user, reason=reason)
            except ApplicationError as exc:
                modeladmin.message_user(request, f"{app.package_id}: {exc.message}", messages.ERROR)
                continue
            changed += 1
        if changed:
            modeladmin.message_user(request, f"{changed} app(s) now {to}.", messages.SUCCESS)
        return None

    action.__name__ = f"set_status_{to}" if only_from is None else f"restore_to_{to}"
    action.short_description = description
    action.allowed_permissions = ("change",)
    return action


@admin.register(App)
class AppAdmin(ActivityHistoryMixin, admin.ModelAdmin):
    form = AppAdminForm
    list_display = ["package_id", "name", "owner", "status", "type", "category", "created_at"]
    list_filter = ["status", "type", "category", "requires_restart", "created_at"]
    search_fields = ["package_id", "name", "owner__email", "owner__name"]
    list_select_related = ["owner", "category"]
    raw_id_fields = ["owner"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "id",
        "owner",
        "package_id",
        "status",
        "status_changed_at",
        "first_published_at",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["id", "package_id", "owner", "name", "type", "category", "tags"]}),
        (
            "State (change with the actions on the app list)",
            {"fields": ["status", "status_changed_at", "first_published_at"]},
        ),
        (
            "Compatibility",
            {
                "fields": ["max_mosis_version_override"],
                "description": "Staff-set ceiling on the Mosis version (blank: none).",
            },
        ),
        (
            "Listing",
            {
                "fields": [
                    "description",
                    "long_description",
                    "icon_url",
                    "homepage_url",
                    "support_url",
                    "screenshots",
                    "requires_restart",
                ]
            },
        ),
        ("Timestamps", {"fields": ["created_at", "updated_at"]}),
    ]
    # The app's own section; the apps above add theirs (versions, reviewers' comments, abuse reports) through
    # ``add_inlines``, so this module imports neither versions nor store.
    inlines = [ActivityInline]
    actions = [
        _status_action(AppStatus.PUBLISHED, "Publish selected apps (list them)"),
        _status_action(AppStatus.UNLISTED, "Unlist selected apps (reachable by package id only)"),
        _status_action(AppStatus.PENDING_DISABLE, "Mark selected apps pending disable (hidden)"),
        _status_action(AppStatus.SUSPENDED, "Suspend selected apps (hidden)"),
        _status_action(AppStatus.DISABLED, "Disable selected apps (devices turn them off)"),
        _status_action(AppStatus.PUBLISHED, "Restore hidden apps to published", only_from=HIDDEN_STATES),
    ]

    def add_inlines(self, *inlines) -> None:
        """The composition hook of the app page: an app above this one (``versions.admin``, ``store.admin``)
        looks this admin up with ``admin.site.get_model_admin(App)`` and adds its read-only sections, shown
        in the order added and before the activity history, which stays last. Called once, at admin
        autodiscovery (the apps' admin modules load in ``INSTALLED_APPS`` order, lowest app first)."""
        own = [inline for inline in self.inlines if inline is not ActivityInline]
        self.inlines = [*own, *inlines, ActivityInline]

    def has_add_permission(self, request):
        return False  # apps are created by their developers through the API or the portal

    def has_delete_permission(self, request, obj=None):
        # Developers delete their unpublished apps through the API; staff hide apps with the status
        # actions. Django's delete would also need to delete the app's audit trail, which nobody may.
        return False

    def history_events(self, obj):
        return ActivityEvent.objects.filter(app=obj)

    def save_model(self, request, obj, form, change):
        """Route edits through the services (audited, catalog notified) instead of a plain ``obj.save()``."""
        changed = set(form.changed_data)
        fields = {name: form.cleaned_data[name] for name in EDITABLE_FIELDS if name in changed}
        if fields:
            app_update(app=obj, actor=request.user, **fields)
        if "max_mosis_version_override" in changed:
            app_set_max_mosis_version(
                app=obj, value=form.cleaned_data["max_mosis_version_override"], actor=request.user
            )


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position", "app_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["position", "name"]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(_app_count=Count("apps"))

    @admin.display(description="apps", ordering="_app_count")
    def app_count(self, obj):
        return obj._app_count


@admin.register(ActivityEvent)
class ActivityEventAdmin(EventDetailsMixin, admin.ModelAdmin):
    """The audit trail, read-only, in words (the raw data stays one click away)."""

    list_display = ["created_at", "type", "app", "details"]
    list_filter = ["type", "created_at"]
    search_fields = ["type", "app__package_id", "actor__email"]
    list_select_related = ["app", "version__app", "actor"]
    date_hierarchy = "created_at"
    fields = ["id", "created_at", "type", "app", "version", "actor", "details", "data_json"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("app", "version__app", "actor")

    @admin.display(description="data (JSON)")
    def data_json(self, obj):
        return format_html(
            "<pre>{}</pre>", json.dumps(obj.data, indent=2, sort_keys=True, ensure_ascii=False)
        )


@admin.register(ReservedPackageId)
class ReservedPackageIdAdmin(admin.ModelAdmin):
    """Package ids of deleted apps (SPEC §5): reserved until staff release one with the action below."""

    list_display = ["package_id", "previous_owner", "reserved_at"]
    search_fields = ["package_id", "previous_owner__email"]
    list_select_related = ["previous_owner"]
    readonly_fields = ["package_id", "previous_owner", "reserved_at"]
    actions = ["release"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # releasing goes through the action (audited), never a bare delete

    def get_actions(self, request):
        return {name: value for name, value in super().get_actions(request).items() if name == "release"}

    @admin.action(description="Release the selected package ids (a new app may take them)")
    def release(self, request, queryset):
        for reserved in queryset:
            package_id_release(package_id=reserved.package_id, actor=request.user)
        self.message_user(request, f"Released {len(queryset)} package id(s).", messages.SUCCESS)


# --- webhooks (issue 14) ------------------------------------------------------------------------------------


class WebhookAttemptInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = WebhookAttempt
    fields = ["number", "started_at", "duration_ms", "status_code", "error", "response_body"]
    readonly_fields = fields


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """Developers' webhooks, read-only (the secret is never shown); staff can ping one (a successful ping
    re-enables a disabled webhook) or delete it."""

    list_display = ["url", "owner", "is_active", "failing_since", "last_success_at", "created_at"]
    list_filter = ["is_active", "created_at"]
    search_fields = ["url", "owner__email"]
    list_select_related = ["owner"]
    fields = [
        "id",
        "owner",
        "url",
        "events",
        "is_active",
        "disabled_at",
        "disabled_reason",
        "failing_since",
        "last_success_at",
        "last_failure_at",
        "created_at",
    ]
    readonly_fields = fields
    actions = ["send_ping"]

    def has_add_permission(self, request):
        return False  # registered by their developers through the API or the portal

    def has_change_permission(self, request, obj=None):
        return False

    def get_deleted_objects(self, objs, request):
        # The delivery log (read-only in its own admin) goes with its webhook: no separate permission.
        deleted, model_count, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, model_count, set(), protected

    def delete_model(self, request, obj):
        webhook_delete(webhook=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for webhook in queryset:
            webhook_delete(webhook=webhook, actor=request.user)

    @admin.action(description="Send a ping to the selected webhooks")
    def send_ping(self, request, queryset):
        for webhook in queryset:
            webhook_ping(webhook=webhook, actor=request.user)
        self.message_user(request, f"Ping queued for {queryset.count()} webhook(s).", messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Every delivery with its attempts (status, duration, truncated answer), read-only."""

    list_display = ["created_at", "event", "webhook", "status", "attempt_count", "next_attempt_at"]
    list_filter = ["status", "event", "created_at"]
    search_fields = ["webhook__url", "webhook__owner__email"]
    list_select_related = ["webhook"]
    date_hierarchy = "created_at"
    fields = [
        "id",
        "webhook",
        "event",
        "status",
        "attempt_count",
        "next_attempt_at",
        "completed_at",
        "last_error",
        "payload",
        "created_at",
    ]
    readonly_fields = fields
    inlines = [WebhookAttemptInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
