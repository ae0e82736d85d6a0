"""Brute-force lockout of password sign-in (issue "Trust" §3), on django-axes.

One policy covers every surface that checks a password: ``POST /v1/auth/token``, the admin login
(``/admin/login/``) and allauth's browser sign-in (``/accounts/login/``). Each failed attempt is recorded
(axes' database handler, so every web process and the embedded SQLite mode share the counts) against the
account name that was tried *and* against the client's IP address (``mosis.core.clientip.client_ip``, so
``TRUSTED_PROXY_COUNT`` applies). ``LOGIN_FAILURE_LIMIT`` failures of either within the cool-off lock it for
``LOGIN_COOLOFF_MINUTES`` after the last counted failure:

- the API answers 429 ``RATE_LIMITED`` with ``Retry-After`` (SPEC §3's format, a pause rather than a
  credential error: a client should wait, not ask the user for another password);
- the admin and the browser sign-in answer the 429 page ``accounts/locked_out.html``.

A locked account is refused even with the right password, and the answer is the same whether or not the
account exists: counts are kept per *name tried*, so a name nobody owns locks exactly like a real one.
Attempts made while locked do not extend the lock (``AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT`` off),
so an attacker cannot keep a victim's account locked beyond one cool-off after the limit is reached; and a
success does not reset the counts (``AXES_RESET_ON_SUCCESS`` off), since resetting would clear the IP's
count too and let an attacker with one valid account reset their budget between guesses.

Every failure increments ``mosis_login_failures_total{surface}``; every refused or locking attempt
increments ``mosis_login_lockouts_total{surface}`` and logs one warning line (IP and a short hash of the
account name). Staff unlock with
``manage.py axes_reset_username <email>`` / ``axes_reset_ip <ip>`` or in the admin (docs/operations.md).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from axes.backends import AxesStandaloneBackend
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.http import JsonResponse
from django.shortcuts import render

from mosis.core.clientip import client_ip
from mosis.core.errors import ApplicationError, ErrorCode, error_body

from .metrics import LOGIN_FAILURES, LOGIN_LOCKOUTS

logger = logging.getLogger("mosis.accounts")

LOCKED_MESSAGE = "Too many failed sign-in attempts. Try again later."
# The names the sign-in surfaces give the account: the API and allauth pass ``email``, Django's admin form
# ``username``, allauth's form field is ``login``.
ACCOUNT_FIELDS = ("email", "username", "login")
MAX_ACCOUNT_LENGTH = 254


class LockoutBackend(AxesStandaloneBackend):
    """Refuses a locked account or address before any password is checked (first in
    ``AUTHENTICATION_BACKENDS``). A call without a request (a shell, a management command, the test
    client's ``login()``) has no client to count against and is left to the other backends."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def cooloff() -> timedelta:
    return settings.AXES_COOLOFF_TIME


def retry_after_seconds() -> int:
    """An upper bound: the lock ends one cool-off after the last counted failure."""
    return max(1, int(cooloff().total_seconds()))


def attempted_account(request, credentials: dict | None) -> str | None:
    """``AXES_USERNAME_CALLABLE``: the account name tried, normalised as sign-in normalises it (emails are
    case-insensitive here), so ``Dev@X`` and ``dev@x`` share one count."""
    source = credentials if credentials else getattr(request, "POST", {})
    for field in ACCOUNT_FIELDS:
        value = source.get(field) if source else None
        if isinstance(value, str) and value.strip():
            return value.strip().lower()[:MAX_ACCOUNT_LENGTH]
    return None


def attempt_ip(request) -> str | None:
    """``AXES_CLIENT_IP_CALLABLE``: our client IP (``None`` for a socket without one, which the IP column
    stores as NULL)."""
    return client_ip(request) or None


def surface_of(request) -> str:
    path = getattr(request, "path", "") or ""
    if path.startswith("/v1/"):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    if path.startswith("/accounts/"):
        return "browser"
    return "other"


def lockout_response(request, original_response=None, credentials=None):
    """``AXES_LOCKOUT_CALLABLE``: what a locked sign-in answers outside our API views (admin, browser)."""
    retry_after = retry_after_seconds()
    if surface_of(request) == "api":
        response = JsonResponse(error_body(ErrorCode.RATE_LIMITED, LOCKED_MESSAGE), status=429)
    else:
        context = {"cooloff_minutes": max(1, retry_after // 60)}
        response = render(request, "accounts/locked_out.html", context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def authenticate_with_lockout(*, request, email: str, password: str):
    """Django's ``authenticate`` for the API's email + password sign-in, counted by the lockout.

    Returns the user or ``None`` (wrong or unknown credentials: the caller's 401); raises 429
    ``RATE_LIMITED`` with ``Retry-After`` when the account name or the address is locked.
    """
    user = authenticate(request, email=(email or "").strip().lower(), password=password)
    if user is None and getattr(request, "axes_locked_out", False):
        raise ApplicationError(
            ErrorCode.RATE_LIMITED, LOCKED_MESSAGE, headers={"Retry-After": str(retry_after_seconds())}
        )
    return user


@receiver(user_login_failed, dispatch_uid="mosis-login-failure-metric")
def count_login_failure(sender, credentials=None, request=None, **kwargs):
    if request is not None:
        LOGIN_FAILURES.labels(surface=surface_of(request)).inc()


@receiver(user_locked_out, dispatch_uid="mosis-login-lockout-metric")
def record_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    surface = surface_of(request)
    LOGIN_LOCKOUTS.labels(surface=surface).inc()
    # The account name is logged as a short hash: people type passwords into the name field.
    logger.warning(
        "sign-in locked out surface=%s ip=%s account_sha256=%s cooloff_minutes=%d",
        surface,
        ip_address or "-",
        account_digest(username),
        retry_after_seconds() // 60,
    )


def account_digest(account: str | None) -> str:
    """First 12 hex digits of SHA-256 of the normalised name (``printf %s dev@x | sha256sum``)."""
    if not account:
        return "-"
    return hashlib.sha256(account.encode()).hexdigest()[:12]
