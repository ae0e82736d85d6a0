"""The provider side of the API OAuth flow (SPEC §5 Auth): code exchange and profile fetch for GitHub/Google.

Every URL comes from ``settings.OAUTH_ENDPOINTS`` and the client credentials from
``settings.SOCIALACCOUNT_PROVIDERS[provider]["APP"]`` (the ones allauth uses for browser sign-in), so the
API and the browser share one configuration. Every failure on the provider side (network, timeout, an
error answer, a malformed body) becomes :class:`ProviderError` with a message fit for the client; the
caller turns it into a 400, never a 500.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import requests
from django.conf import settings

PROVIDERS = ("github", "google")
MAX_PROVIDER_RESPONSE_BYTES = 1024 * 1024
SCOPES = {"github": "read:user user:email", "google": "openid email profile"}
USER_AGENT = "MosisStore-OAuth/1.0"


class ProviderError(Exception):
    """The provider refused or could not be reached; ``str()`` is a client-facing message."""


@dataclass(frozen=True)
class ProviderProfile:
    """What we keep from a provider's user: its stable id, the best email and whether it is verified."""

    provider: str
    uid: str
    email: str | None
    email_verified: bool
    name: str = ""
    avatar_url: str = ""
    extra_data: dict = field(default_factory=dict)


def provider_client(provider: str) -> tuple[str, str]:
    """(client_id, secret) of a provider, or ("", "") when the server has none configured."""
    app = settings.SOCIALACCOUNT_PROVIDERS.get(provider, {}).get("APP", {})
    return app.get("client_id", "") or "", app.get("secret", "") or ""


def provider_is_enabled(provider: str) -> bool:
    return (
        provider in PROVIDERS and provider in settings.OAUTH_ENDPOINTS and bool(provider_client(provider)[0])
    )


def authorize_url(*, provider: str, state: str, redirect_uri: str) -> str:
    client_id, _ = provider_client(provider)
    params = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": SCOPES[provider],
        "state": state,
    }
    if provider == "google":
        params["response_type"] = "code"
    request = requests.Request("GET", settings.OAUTH_ENDPOINTS[provider]["authorize"], params=params)
    return request.prepare().url


def _read_json(response: requests.Response, what: str):
    """The JSON body of a provider answer, read with a size bound (a provider cannot exhaust our memory)."""
    body = b""
    for chunk in response.iter_content(chunk_size=64 * 1024):
        body += chunk
        if len(body) > MAX_PROVIDER_RESPONSE_BYTES:
            raise ProviderError(f"The sign-in provider sent an oversized {what} answer.")
    try:
        return json.loads(body or b"null")
    except ValueError:
        raise ProviderError(f"The sign-in provider sent an unreadable {what} answer.") from None


def _call(method: str, url: str, what: str, **kwargs):
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **kwargs.pop("headers", {})}
    try:
        with requests.request(
            method,
            url,
            headers=headers,
            timeout=settings.OAUTH_HTTP_TIMEOUT,
            allow_redirects=False,
            stream=True,
            **kwargs,
        ) as response:
            data = _read_json(response, what)
            status = response.status_code
    except requests.RequestException:
        raise ProviderError(f"The sign-in provider could not be reached ({what}); try again later.") from None
    if isinstance(data, dict) and data.get("error"):
        description = data.get("error_description") or data.get("error")
        if isinstance(description, dict):  # Google's API errors nest {"error": {"message": ...}}
            description = description.get("message") or "error"
        raise ProviderError(f"The sign-in provider refused the {what}: {str(description)[:200]}")
    if status != 200:
        raise ProviderError(f"The sign-in provider answered {status} to the {what}.")
    return data


def exchange_code(*, provider: str, code: str, redirect_uri: str) -> str:
    """Trade the authorization code for the provider's access token."""
    client_id, secret = provider_client(provider)
    data = _call(
        "POST",
        settings.OAUTH_ENDPOINTS[provider]["token"],
        "code exchange",
        data={
            "client_id": client_id,
            "client_secret": secret,
            "code": code,
            "redirect_uri": redirect_uri,
            "grant_type": "authorization_code",
        },
    )
    token = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise ProviderError("The sign-in provider did not return an access token.")
    return token


def fetch_profile(*, provider: str, access_token: str) -> ProviderProfile:
    endpoints = settings.OAUTH_ENDPOINTS[provider]
    auth = {"Authorization": f"Bearer {access_token}"}
    user = _call("GET", endpoints["user"], "profile request", headers=auth)
    if not isinstance(user, dict):
        raise ProviderError("The sign-in provider sent an unreadable profile.")
    if provider == "github":
        return _github_profile(user, _call("GET", endpoints["emails"], "email request", headers=auth))
    return _google_profile(user)


def _text(value, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _github_profile(user: dict, emails) -> ProviderProfile:
    uid = user.get("id")
    if uid in (None, ""):
        raise ProviderError("The sign-in provider's profile has no user id.")
    email, verified = None, False
    rows = [e for e in emails if isinstance(e, dict)] if isinstance(emails, list) else []
    # The primary verified address first, then any verified one; an unverified address is never used to link.
    for row in sorted(rows, key=lambda e: (not e.get("primary"), not e.get("verified"))):
        if isinstance(row.get("email"), str) and row.get("verified"):
            email, verified = row["email"], True
            break
    if email is None and isinstance(user.get("email"), str):
        email = user["email"]
    return ProviderProfile(
        provider="github",
        uid=str(uid),
        email=email,
        email_verified=verified,
        name=_text(user.get("name") or user.get("login"), 150),
        avatar_url=_text(user.get("avatar_url"), 500),
        extra_data={k: user.get(k) for k in ("id", "login", "name", "html_url") if k in user},
    )


def _google_profile(user: dict) -> ProviderProfile:
    uid = user.get("sub")
    if uid in (None, ""):
        raise ProviderError("The sign-in provider's profile has no user id.")
    verified = user.get("email_verified") in (True, "true")
    return ProviderProfile(
        provider="google",
        uid=str(uid),
        email=user.get("email") if isinstance(user.get("email"), str) else None,
        email_verified=verified,
        name=_text(user.get("name"), 150),
        avatar_url=_text(user.get("picture"), 500),
        extra_data={k: user.get(k) for k in ("sub", "name", "email", "email_verified") if k in user},
    )
