"""App pages: create, read, edit (with the long description's preview), unlist/relist and delete.

Every write is the service ``/v1/apps`` calls (``app_create``, ``app_update``, ``versions.services.app_delete``)
or the one App state machine (``app_set_status``, owner moves published ⇄ unlisted); validation is the API's
serializers' (``portal.forms.AppForm``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps import services
from apps.constants import OWNER_TRANSITIONS, REACHABLE_STATUSES, AppStatus
from mosis.core.errors import ApplicationError, ErrorCode
from versions import services as version_services
from versions.selectors import app_latest_version, version_list

from .. import store_reads
from ..forms import AppForm
from ..ratelimit import rate_limit_spend
from ..selectors import app_recent_events
from ..templatetags.portal import demote_headings
from .common import action_done, owned_app_or_404, paginate

VERSIONS_PER_PAGE = 20
MAX_PREVIEW_CHARS = 20000  # App.long_description's limit


def _form_page(request, form: AppForm, *, app=None, status: int = 200):
    preview = None
    if request.method == "POST" and "preview" in request.POST:
        preview = demote_headings(
            store_reads.long_description_html(form.data.get("long_description", "")[:MAX_PREVIEW_CHARS])
        )
    return render(
        request,
        "portal/app_form.html",
        {"form": form, "app": app, "preview": preview},
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def app_new(request):
    if request.method != "POST":
        return _form_page(request, AppForm())
    form = AppForm(request.POST)
    if "preview" in request.POST:
        return _form_page(request, form)
    if form.is_valid():
        try:
            rate_limit_spend(request, category="write")
            app = services.app_create(owner=request.user, **form.validated)
        except ApplicationError as error:
            form.add_application_error(error)
        else:
            messages.success(request, f"{app.name} was created as a draft. Upload its first version next.")
            return redirect("portal:app", app_id=app.pk)
    return _form_page(request, form, status=400)


@login_required
@require_safe
def app_detail(request, app_id):
    app = owned_app_or_404(request, app_id)
    versions = paginate(request, version_list(app=app), VERSIONS_PER_PAGE)
    latest_published = app_latest_version(app=app)
    return render(
        request,
        "portal/app_detail.html",
        {
            "app": app,
            "versions": versions,
            "latest_published": latest_published,
            "in_store": latest_published is not None and app.status in REACHABLE_STATUSES,
            "events": app_recent_events(user=request.user, app=app),
            "can_unlist": (app.status, AppStatus.UNLISTED) in OWNER_TRANSITIONS,
            "can_relist": (app.status, AppStatus.PUBLISHED) in OWNER_TRANSITIONS,
            "never_published": app.first_published_at is None,
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def app_edit(request, app_id):
    app = owned_app_or_404(request, app_id)
    if request.method != "POST":
        return _form_page(request, AppForm(app=app), app=app)
    form = AppForm(request.POST, app=app)
    if "preview" in request.POST:
        return _form_page(request, form, app=app)
    if form.is_valid():
        try:
            rate_limit_spend(request, category="write")
            services.app_update(app=app, actor=request.user, **form.validated)
        except ApplicationError as error:
            form.add_application_error(error)
        else:
            messages.success(request, "Your changes were saved.")
            return redirect("portal:app", app_id=app.pk)
    return _form_page(request, form, app=app, status=400)


@login_required
@require_POST
def markdown_preview(request):
    """The long description as the store will show it (the store's sanitizer), for the live preview."""
    text = request.POST.get("text", "")
    if len(text) > MAX_PREVIEW_CHARS:
        return HttpResponseBadRequest(
            f"<p>The long description is limited to {MAX_PREVIEW_CHARS} characters.</p>".encode()
        )
    response = HttpResponse(
        demote_headings(store_reads.long_description_html(text)), content_type="text/html; charset=utf-8"
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def app_status(request, app_id):
    """Unlist (published → unlisted) or relist (unlisted → published): the owner's moves of SPEC §6."""
    app = owned_app_or_404(request, app_id)
    to = request.POST.get("to", "")
    url = reverse("portal:app", args=[app.pk])
    if to not in (AppStatus.UNLISTED, AppStatus.PUBLISHED):
        return action_done(
            request, url, error=ApplicationError(ErrorCode.VALIDATION_ERROR, "Choose unlist or relist.")
        )
    try:
        rate_limit_spend(request, category="write")
        services.app_set_status(app=app, to=to, actor=request.user, reason="by the developer in the portal")
    except ApplicationError as error:
        return action_done(request, url, error=error)
    done = (
        "is unlisted: reachable by its package id, hidden from browse and search."
        if to == AppStatus.UNLISTED
        else "is listed in the store again."
    )
    return action_done(request, url, ok=f"{app.name} {done}")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def app_delete(request, app_id):
    app = owned_app_or_404(request, app_id)
    if request.method == "POST":
        try:
            rate_limit_spend(request, category="write")
            version_services.app_delete(app=app, actor=request.user)
        except ApplicationError as error:
            return action_done(request, reverse("portal:app", args=[app.pk]), error=error)
        messages.success(request, f"{app.name} ({app.package_id}) was deleted.")
        return redirect("portal:dashboard")
    return render(
        request, "portal/app_delete.html", {"app": app, "never_published": app.first_published_at is None}
    )
