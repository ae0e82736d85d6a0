"""What every portal view shares: the owner-only lookups (404 for anything else) and small page helpers."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render

from apps.models import App
from apps.policies import app_for_owner
from mosis.core.errors import ApplicationError
from versions.models import AppVersion
from versions.selectors import version_get


def owned_app_or_404(request, app_id) -> App:
    """The signed-in developer's app (``apps.policies.app_for_owner``); a 404 page for any other id."""
    try:
        return app_for_owner(user=request.user, app_id=app_id)
    except ApplicationError:
        raise Http404("App not found.") from None


def owned_version_or_404(request, app_id, version_id) -> tuple[App, AppVersion]:
    app = owned_app_or_404(request, app_id)
    version = version_get(app=app, version_id=version_id)
    if version is None:
        raise Http404("Version not found.")
    version.app = app
    return app, version


def paginate(request, items, per_page: int) -> Page:
    """One page of ``items`` (a bad or out-of-range ``?page`` shows the nearest page, never an error)."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def wants_json(request) -> bool:
    """The upload script asks for JSON; a plain form post (no script) gets pages."""
    return "application/json" in request.headers.get("Accept", "")


def json_error(error: ApplicationError) -> JsonResponse:
    response = JsonResponse(
        {"errors": {"__all__": [error.message]}, "code": error.code, "details": error.details},
        status=error.status,
    )
    for name, value in error.headers.items():
        response[name] = value
    return response


def action_done(request, url: str, *, ok: str | None = None, error: ApplicationError | None = None):
    """After a one-button action: a message saying what happened (or why not), back to ``url``."""
    if error is not None:
        messages.error(request, error.message)
    elif ok:
        messages.success(request, ok)
    return redirect(url)


def render_showing_secret_once(
    request, template: str, context: dict, *, secret: str | None, status: int = 200
):
    """A page that may carry a secret shown this once (an API key, a webhook's signing secret): never stored
    by a browser or proxy cache, so the secret exists in this one answer only."""
    response = render(request, template, {**context, "secret": secret}, status=status)
    if secret:
        response["Cache-Control"] = "no-store"
    return response
