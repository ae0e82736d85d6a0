"""The provider side of the API OAuth flow (SPEC §5 Auth), on django-allauth's provider machinery.

allauth does the provider work: its ``GitHubProvider`` / ``GoogleProvider`` (scopes, auth params, PKCE from
``SOCIALACCOUNT_PROVIDERS``), their OAuth2 adapters and ``OAuth2Client`` (authorize URL, code exchange,
profile and email fetches, Google's id_token checks) and the ``SocialLogin`` they build (uid, extra data,
email addresses with their verified flags). The client id and secret are allauth's app of the provider
(``GITHUB_CLIENT_ID`` … in ``SOCIALACCOUNT_PROVIDERS``, or a Social application row in the admin), so the
API and the browser sign-in share one configuration.

Two things are ours, because the API flow is not allauth's browser flow:

- the redirect URI is the API's callback (``/v1/auth/oauth/<provider>/callback``), which answers JSON;
- the provider URLs come from ``settings.OAUTH_ENDPOINTS`` (environment variables), so operators (GitHub
  Enterprise, a proxy) and the tests (a provider served on 127.0.0.1) can point them elsewhere.

The ``state`` is not allauth's: allauth keeps it in the browser session, but the client that starts the API
flow (a CLI) is not the browser that comes back to the callback. ``accounts.services.oauth`` keeps it in
the cache, single-use.

Every failure on the provider side (network, timeout, an error answer, a malformed or oversized body)
becomes :class:`ProviderError` with a message fit for the client (the caller's 400, never a 500). The same
checks apply to allauth's browser flow through :class:`SocialAccountAdapter` (``SOCIALACCOUNT_ADAPTER``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import requests
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter, get_adapter
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.base import ProviderException
from allauth.socialaccount.providers.github.views import GitHubOAuth2Adapter
from allauth.socialaccount.providers.google.views import GoogleOAuth2Adapter
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.conf import settings
from django.core.exceptions import MultipleObjectsReturned, PermissionDenied
from django.urls import reverse

from mosis.core.errors import ApplicationError, ErrorCode
from mosis.core.siteurl import absolute_url

PROVIDERS = ("github", "google")
PROVIDER_NAMES = {"github": "GitHub", "google": "Google"}
# The environment variables that give each provider its client credentials (docs/configuration.md).
CREDENTIAL_SETTINGS = {
    "github": ("GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET"),
    "google": ("GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"),
}
MAX_PROVIDER_RESPONSE_BYTES = 1024 * 1024
USER_AGENT = "MosisStore-OAuth/1.0"
AVATAR_FIELD = {"github": "avatar_url", "google": "picture"}
NAME_FIELDS = {"github": ("name", "login"), "google": ("name",)}


class ProviderError(OAuth2Error):
    """The provider refused or could not be reached; ``str()`` is a client-facing message.

    An ``OAuth2Error``, so allauth's browser callback shows its authentication-error page for it too."""


class ProviderNotConfigured(Exception):
    """The server has no client credentials for the provider; ``missing`` names the settings to set."""

    def __init__(self, provider: str, missing: list[str]):
        self.provider = provider
        self.missing = missing
        super().__init__(f"{provider}: set {', '.join(missing)}")


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


# --- allauth adapters pointed at the API callback and the configured endpoints --------------------------


class ApiCallbackMixin:
    """The redirect URI of the API flow: our JSON callback, on the host the client used (or ``SITE_URL``)."""

    provider_id: str

    def get_callback_url(self, request, app) -> str:
        return absolute_url(reverse("oauth-callback", kwargs={"provider": self.provider_id}))


def _endpoint(provider: str, name: str) -> str:
    return settings.OAUTH_ENDPOINTS[provider][name]


class ApiGitHubOAuth2Adapter(ApiCallbackMixin, GitHubOAuth2Adapter):
    access_token_url = property(lambda self: _endpoint("github", "token"))
    authorize_url = property(lambda self: _endpoint("github", "authorize"))
    profile_url = property(lambda self: _endpoint("github", "user"))
    emails_url = property(lambda self: _endpoint("github", "emails"))


class ApiGoogleOAuth2Adapter(ApiCallbackMixin, GoogleOAuth2Adapter):
    access_token_url = property(lambda self: _endpoint("google", "token"))
    authorize_url = property(lambda self: _endpoint("google", "authorize"))
    identity_url = property(lambda self: _endpoint("google", "user"))


OAUTH2_ADAPTERS = {"github": ApiGitHubOAuth2Adapter, "google": ApiGoogleOAuth2Adapter}


# --- The HTTP session allauth uses for every provider call ---------------------------------------------


def _error_description(body) -> str | None:
    """The provider's error text of an OAuth error body (``{"error", "error_description"}``, or Google's
    API shape ``{"error": {"message"}}``), else ``None``."""
    if not isinstance(body, dict) or not body.get("error"):
        return None
    description = body.get("error_description") or body["error"]
    if isinstance(description, dict):
        description = description.get("message") or "error"
    return str(description)[:200]


def check_provider_answer(response, *args, **kwargs):
    """``requests`` response hook: refuse oversized answers and turn provider errors into ProviderError.

    GitHub answers a bad code with 200 and an error body; Google with 400. A 404 is left to allauth
    (GitHub documents it for ``/user/emails`` of some accounts)."""
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > MAX_PROVIDER_RESPONSE_BYTES:
        raise ProviderError("The sign-in provider sent an oversized answer.")
    if response.status_code == 404:
        return response
    try:
        body = response.json()
    except ValueError:
        body = None
    description = _error_description(body)
    if description:
        raise ProviderError(f"The sign-in provider refused the sign-in: {description}")
    if response.status_code >= 400:
        raise ProviderError(f"The sign-in provider answered {response.status_code}.")
    return response


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """``SOCIALACCOUNT_ADAPTER``: provider calls time out after ``OAUTH_HTTP_TIMEOUT`` (allauth's
    ``SOCIALACCOUNT_REQUESTS_TIMEOUT``), follow no redirect, and go through :func:`check_provider_answer`."""

    def get_requests_session(self):
        session = super().get_requests_session()
        session.max_redirects = 0  # a redirect raises TooManyRedirects: the provider URLs are exact
        session.headers.update({"Accept": "application/json", "User-Agent": USER_AGENT})
        session.hooks["response"].append(check_provider_answer)
        return session


def provider_is_enabled(provider: str) -> bool:
    """Whether sign-in with ``provider`` is configured in the settings (its client id set): the pages show
    its button only then. Read from the settings alone, so rendering a page costs no query."""
    app = settings.SOCIALACCOUNT_PROVIDERS.get(provider, {}).get("APP") or {}
    return provider in PROVIDERS and bool(app.get("client_id"))


# --- The two steps of the API flow ---------------------------------------------------------------------


def configured_provider(*, request, provider: str):
    """allauth's provider object with its app, or :class:`ProviderNotConfigured` naming what to set."""
    names = CREDENTIAL_SETTINGS[provider]
    try:
        found = get_adapter(request).get_provider(request, provider)
    except (SocialApp.DoesNotExist, MultipleObjectsReturned):
        raise ProviderNotConfigured(provider, list(names)) from None
    missing = [
        name for name, value in zip(names, (found.app.client_id, found.app.secret), strict=True) if not value
    ]
    if missing:
        raise ProviderNotConfigured(provider, missing)
    return found


class ProviderClient:
    """One provider's allauth machinery, bound to the HTTP request it runs in (allauth's provider lookup and
    adapters take the request). The view makes it with :func:`provider_client`; ``accounts.services.oauth``
    is given this object, never the request."""

    def __init__(self, *, request, provider: str):
        self.provider = provider
        self.request = request
        self.found = configured_provider(request=request, provider=provider)

    def authorize_url(self, *, state: str) -> tuple[str, str | None]:
        """The provider URL to send the browser to, and the PKCE code verifier to keep with the state
        (``None`` unless ``OAUTH_PKCE_ENABLED`` is set for the provider in ``SOCIALACCOUNT_PROVIDERS``)."""
        adapter = OAUTH2_ADAPTERS[self.provider](self.request)
        client = adapter.get_client(self.request, self.found.app)
        client.state = state
        params = self.found.get_auth_params()
        pkce = self.found.get_pkce_params()
        verifier = pkce.pop("code_verifier", None)
        params.update(pkce)
        return client.get_redirect_url(adapter.authorize_url, self.found.get_scope(), params), verifier

    def profile_for_code(self, *, code: str, pkce_code_verifier: str | None = None) -> ProviderProfile:
        """Exchange the code and read the provider's user through allauth; :class:`ProviderError` on
        failure."""
        adapter = OAUTH2_ADAPTERS[self.provider](self.request)
        client = adapter.get_client(self.request, self.found.app)
        try:
            data = client.get_access_token(code, pkce_code_verifier=pkce_code_verifier)
            # The token answer came straight from the provider over TLS: an id_token in it needs no
            # signature check (OpenID Connect Core 3.1.3.7), as in allauth's own callback view.
            adapter.did_fetch_access_token = True
            login = adapter.complete_login(
                self.request, self.found.app, adapter.parse_token(data), response=data
            )
        except ProviderError:
            raise
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "an error"
            raise ProviderError(f"The sign-in provider answered {status}.") from None
        except requests.JSONDecodeError:
            raise ProviderError("The sign-in provider sent an unreadable answer.") from None
        except requests.RequestException:
            raise ProviderError("The sign-in provider could not be reached; try again later.") from None
        except (OAuth2Error, ProviderException, PermissionDenied):
            raise ProviderError("The sign-in provider did not complete the sign-in.") from None
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ProviderError("The sign-in provider sent an unreadable profile.") from None
        return _profile(self.provider, login)


def provider_client(*, request, provider: str) -> ProviderClient:
    """The API flow's provider, or 404 for a provider this store does not offer and 503 ``SERVICE_UNAVAILABLE``
    when the server has no client credentials for it (an operator's fix, not the client's: the same request
    works once the settings are set)."""
    if provider not in PROVIDERS:
        raise ApplicationError(ErrorCode.NOT_FOUND, f"Sign-in provider '{provider[:40]}' is not available.")
    try:
        return ProviderClient(request=request, provider=provider)
    except ProviderNotConfigured as exc:
        names = ", ".join(exc.missing)
        raise ApplicationError(
            ErrorCode.SERVICE_UNAVAILABLE,
            f"Sign-in with {PROVIDER_NAMES[exc.provider]} is not configured on this server: "
            f"the operator must set {names}.",
            {"missing_settings": list(exc.missing)},
        ) from None


def _text(value, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _profile(provider: str, login) -> ProviderProfile:
    """allauth's ``SocialLogin`` → what the sign-in needs. Its addresses are sorted primary and verified
    first, so the first verified one is the primary verified address when there is one."""
    extra = login.account.extra_data if isinstance(login.account.extra_data, dict) else {}
    verified = next((a.email for a in login.email_addresses if a.verified), None)
    fallback = login.email_addresses[0].email if login.email_addresses else None
    name = next((extra[f] for f in NAME_FIELDS[provider] if isinstance(extra.get(f), str) and extra[f]), "")
    return ProviderProfile(
        provider=provider,
        uid=str(login.account.uid),
        email=verified or fallback,
        email_verified=verified is not None,
        name=_text(name, 150),
        avatar_url=_text(extra.get(AVATAR_FIELD[provider]), 500),
        extra_data=extra,
    )
