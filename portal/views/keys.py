"""API keys (scopes, expiry, the secret shown once, revoke) and signing keys (add a PEM, revoke): the
services and selectors of ``/v1/keys`` and ``/v1/signing-keys``."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors, services
from mosis.core.errors import ApplicationError

from ..forms import ApiKeyForm, SigningKeyForm
from ..ratelimit import rate_limit_spend
from .common import action_done, paginate, render_showing_secret_once

KEYS_PER_PAGE = 50


def _keys_page(request, form, *, created=None, secret=None, status=200):
    return render_showing_secret_once(
        request,
        "portal/api_keys.html",
        {
            "form": form,
            "keys": paginate(request, selectors.api_key_list(user=request.user), KEYS_PER_PAGE),
            "created": created,
            "now": timezone.now(),
        },
        secret=secret,
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def api_keys(request):
    if request.method != "POST":
        return _keys_page(request, ApiKeyForm())
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        data = form.validated
        try:
            rate_limit_spend(request, category="write")
            key, secret = services.api_key_create(
                user=request.user,
                name=data["name"],
                scopes=data["permissions"],
                expires_at=data["expires_at"],
            )
        except ApplicationError as error:
            form.add_application_error(error)
        else:
            # Shown in this answer and never again: not stored in the session, not redirected to.
            return _keys_page(request, ApiKeyForm(), created=key, secret=secret, status=201)
    return _keys_page(request, form, status=400)


def _key_or_404(getter, request, key_id):
    try:
        return getter(user=request.user, key_id=key_id)
    except ApplicationError:
        raise Http404("Key not found.") from None


@login_required
@require_POST
def api_key_revoke(request, key_id):
    key = _key_or_404(selectors.api_key_get, request, key_id)
    try:
        rate_limit_spend(request, category="write")
        services.api_key_revoke(key=key)
    except ApplicationError as error:
        return action_done(request, reverse("portal:api-keys"), error=error)
    return action_done(
        request, reverse("portal:api-keys"), ok=f"The key “{key.name}” ({key.key_prefix}…) was revoked."
    )


def _signing_page(request, form, *, status=200):
    return render(
        request,
        "portal/signing_keys.html",
        {
            "form": form,
            "keys": paginate(request, selectors.signing_key_list(user=request.user), KEYS_PER_PAGE),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def signing_keys(request):
    if request.method != "POST":
        return _signing_page(request, SigningKeyForm())
    form = SigningKeyForm(request.POST)
    if form.is_valid():
        try:
            rate_limit_spend(request, category="write")
            key = services.signing_key_register(user=request.user, **form.validated)
        except ApplicationError as error:
            form.add_application_error(error)
        else:
            return action_done(
                request,
                reverse("portal:signing-keys"),
                ok=f"The signing key “{key.name}” was added. Fingerprint: {key.fingerprint}",
            )
    return _signing_page(request, form, status=400)


@login_required
@require_POST
def signing_key_revoke(request, key_id):
    key = _key_or_404(selectors.signing_key_get, request, key_id)
    try:
        rate_limit_spend(request, category="write")
        services.signing_key_revoke(key=key)
    except ApplicationError as error:
        return action_done(request, reverse("portal:signing-keys"), error=error)
    return action_done(
        request,
        reverse("portal:signing-keys"),
        ok=f"The signing key “{key.name}” was revoked; versions already signed with it stay verifiable.",
    )
