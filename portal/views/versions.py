"""Version pages: create and upload (browser → storage through the URL the service returns), follow
validation, read the report and the changes, submit, publish, yank, delete, and the review timeline.

Each action is the service its ``/v1`` endpoint calls (``versions.services``), counted in the same rate-limit
budgets; the upload itself never passes through this server unless the store uses local storage, where
the signed URL is this server's streaming upload endpoint.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.selectors import signing_key_list
from apps.constants import REACHABLE_STATUSES
from mosis.core.errors import ApplicationError
from mosis_package import PERMISSIONS
from versions import services
from versions.constants import DELETABLE_STATUSES, VERSION_TRANSITIONS, VersionStatus
from versions.selectors import last_published_version, version_changes, version_list

from ..forms import UploadCompleteForm, VersionCreateForm
from ..ratelimit import rate_limit_spend
from ..report import is_retryable, report_items
from ..selectors import version_timeline
from .common import action_done, json_error, owned_app_or_404, owned_version_or_404, wants_json

# Headers a browser sets itself and a script may not (XMLHttpRequest refuses them).
BROWSER_SET_HEADERS = frozenset({"content-length", "host", "connection"})
POLL_STATUSES = (VersionStatus.VALIDATING,)


def _active_signing_keys(user) -> list:
    return list(signing_key_list(user=user).filter(revoked_at__isnull=True))


def _upload_json(target) -> dict:
    return {
        "url": target.url,
        "method": target.method,
        "headers": {k: v for k, v in target.headers.items() if k.lower() not in BROWSER_SET_HEADERS},
    }


def _upload_context() -> dict:
    return {"max_size": settings.MAX_PACKAGE_SIZE, "require_signature": settings.REQUIRE_SIGNATURE}


def _version_url(app, version) -> str:
    return reverse("portal:version", args=[app.pk, version.pk])


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def version_new(request, app_id):
    app = owned_app_or_404(request, app_id)
    if request.method == "POST":
        form = VersionCreateForm(request.POST)
        if form.is_valid():
            try:
                rate_limit_spend(request, category="upload")
                version, target = services.version_create(app=app, actor=request.user, **form.validated)
            except ApplicationError as error:
                form.add_application_error(error)
            else:
                if wants_json(request):
                    return JsonResponse(
                        {
                            "version_url": _version_url(app, version),
                            "complete_url": reverse("portal:version-complete", args=[app.pk, version.pk]),
                            "target_url": reverse("portal:version-upload-target", args=[app.pk, version.pk]),
                            "upload": _upload_json(target),
                        },
                        status=201,
                    )
                messages.success(
                    request, f"Version {version.version_name} was created: upload its package now."
                )
                return redirect(_version_url(app, version))
        if wants_json(request):
            return JsonResponse({"errors": form.error_summary()}, status=400)
        status = 400
    else:
        highest = version_list(app=app).values_list("version_code", flat=True).first()
        form = VersionCreateForm(initial={"version_code": (highest or 0) + 1})
        status = 200
    return render(
        request,
        "portal/version_new.html",
        {
            "app": app,
            "form": form,
            "complete_form": UploadCompleteForm(signing_keys=_active_signing_keys(request.user)),
            **_upload_context(),
        },
        status=status,
    )


@login_required
@require_safe
def version_detail(request, app_id, version_id):
    app, version = owned_version_or_404(request, app_id, version_id)
    status = VersionStatus(version.status)
    validated = status not in (VersionStatus.UPLOADING, VersionStatus.VALIDATING)
    previous = last_published_version(version=version) if validated else None
    report = version.validation_report
    retry = status == VersionStatus.REJECTED and version.reviewed_at is None and is_retryable(report)
    keys = _active_signing_keys(request.user) if status == VersionStatus.UPLOADING else []
    return render(
        request,
        "portal/version_detail.html",
        {
            "app": app,
            "version": version,
            "report": report,
            "items": report_items(report),
            "manifest_json": json.dumps(version.manifest, indent=2, ensure_ascii=False)
            if version.manifest
            else "",
            "changes": version_changes(version=version, previous=previous) if validated else None,
            "permissions": [
                (name, *PERMISSIONS.get(name, (False, "Not in the documented list.")))
                for name in version.permissions or []
            ],
            "timeline": version_timeline(user=request.user, version=version),
            "complete_form": UploadCompleteForm(signing_keys=keys),
            "polling": status in POLL_STATUSES,
            "can_submit": VersionStatus.REVIEW in VERSION_TRANSITIONS[status],
            "can_publish": VersionStatus.PUBLISHED in VERSION_TRANSITIONS[status],
            "can_yank": status == VersionStatus.PUBLISHED and version.yanked_at is None,
            "can_delete": status in DELETABLE_STATUSES,
            "can_retry": retry,
            "in_store": status == VersionStatus.PUBLISHED and app.status in REACHABLE_STATUSES,
            **_upload_context(),
        },
    )


@login_required
@require_safe
def version_status(request, app_id, version_id):
    """The version's state for the page's poller (JSON; never cached)."""
    _app, version = owned_version_or_404(request, app_id, version_id)
    response = JsonResponse({"status": version.status, "label": VersionStatus(version.status).label})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def version_upload_target(request, app_id, version_id):
    """A fresh upload URL for a version still ``uploading`` (``version_upload_target``), for the script."""
    app, version = owned_version_or_404(request, app_id, version_id)
    try:
        target = services.version_upload_target(version=version)
    except ApplicationError as error:
        return json_error(error)
    return JsonResponse(
        {
            "upload": _upload_json(target),
            "declared_size": version.declared_size,
            "complete_url": reverse("portal:version-complete", args=[app.pk, version.pk]),
            "version_url": _version_url(app, version),
        }
    )


@login_required
@require_POST
def version_complete(request, app_id, version_id):
    """Upload-complete: record the signature and start validation; ``retry`` sends it again for a version
    rejected by an ``INTERNAL`` failure, with the signature recorded at upload."""
    app, version = owned_version_or_404(request, app_id, version_id)
    url = _version_url(app, version)
    if request.POST.get("retry"):
        body = {"signature": version.signature, "signing_key_id": version.signing_key_id}
    else:
        form = UploadCompleteForm(request.POST, signing_keys=_active_signing_keys(request.user))
        if not form.is_valid():
            if wants_json(request):
                return JsonResponse({"errors": form.error_summary()}, status=400)
            for field_errors in form.errors.values():
                for message in field_errors:
                    messages.error(request, message)
            return redirect(url)
        body = form.validated
    try:
        rate_limit_spend(request, category="upload")
        services.version_upload_complete(version=version, actor=request.user, **body)
    except ApplicationError as error:
        if wants_json(request):
            return json_error(error)
        return action_done(request, url, error=error)
    if wants_json(request):
        return JsonResponse({"redirect": url})
    return action_done(request, url, ok="Upload complete: the package is being validated.")


def _action(service, done: str):
    @login_required
    @require_POST
    def view(request, app_id, version_id):
        app, version = owned_version_or_404(request, app_id, version_id)
        url = _version_url(app, version)
        try:
            rate_limit_spend(request, category="write")
            service(version=version, actor=request.user)
        except ApplicationError as error:
            return action_done(request, url, error=error)
        return action_done(request, url, ok=done.format(name=version.version_name))

    return view


version_submit = _action(
    services.version_submit, "{name} was submitted for review. You will be emailed the decision."
)
version_publish = _action(services.version_publish, "{name} is published: it is live in the store.")
version_yank = _action(
    services.version_yank,
    "{name} was yanked: it is no longer offered as the latest version (exact downloads still work).",
)


@login_required
@require_POST
def version_delete(request, app_id, version_id):
    app, version = owned_version_or_404(request, app_id, version_id)
    try:
        rate_limit_spend(request, category="write")
        services.version_delete(version=version, actor=request.user)
    except ApplicationError as error:
        return action_done(request, _version_url(app, version), error=error)
    return action_done(
        request, reverse("portal:app", args=[app.pk]), ok=f"Version {version.version_name} was deleted."
    )
