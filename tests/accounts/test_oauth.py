"""OAuth API flow (SPEC §5 Auth) against a real provider server on 127.0.0.1 (tests/accounts/conftest.py)."""

from urllib.parse import parse_qs, urlparse

import pytest
from allauth.socialaccount.models import SocialAccount

from accounts.models import User
from tests.accounts.conftest import CLIENT_ID, GOOD_CODE
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_ratelimits")]


def start(api_client, provider: str) -> dict:
    response = api_client.post(f"/v1/auth/oauth/{provider}")
    assert response.status_code == 200, response.content
    url = urlparse(response.json()["redirect_url"])
    return {k: v[0] for k, v in parse_qs(url.query).items()} | {"_path": url.path}


def callback(api_client, provider: str, **params):
    return api_client.get(f"/v1/auth/oauth/{provider}/callback", params)


def test_start_returns_the_provider_url_with_client_id_state_and_our_callback(api_client, oauth_provider):
    query = start(api_client, "github")
    assert query["_path"] == "/github/authorize"
    assert query["client_id"] == CLIENT_ID
    assert len(query["state"]) >= 32
    assert query["redirect_uri"].endswith("/v1/auth/oauth/github/callback")
    google = start(api_client, "google")
    assert google["response_type"] == "code" and "email" in google["scope"]
    assert google["state"] != query["state"]


def test_github_sign_in_creates_the_user_with_the_verified_primary_email(api_client, oauth_provider):
    state = start(api_client, "github")["state"]
    response = callback(api_client, "github", code=GOOD_CODE, state=state)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["user"]["email"] == "octo@example.com"
    assert body["user"]["name"] == "Octo Cat"
    assert body["user"]["verified"] is True
    user = User.objects.get(email="octo@example.com")
    assert not user.has_usable_password()
    assert SocialAccount.objects.get(provider="github", uid="4242").user == user
    # The tokens work for the API.
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert api_client.get("/v1/auth/me").json()["id"] == str(user.pk)
    # The code was exchanged with our client credentials, and the emails fetched with the provider token.
    methods_paths = [(m, p) for m, p, _ in oauth_provider.requests]
    assert methods_paths == [("POST", "/github/token"), ("GET", "/github/user"), ("GET", "/github/emails")]


def test_google_sign_in_creates_the_user(api_client, oauth_provider):
    state = start(api_client, "google")["state"]
    response = callback(api_client, "google", code=GOOD_CODE, state=state)
    assert response.status_code == 200, response.content
    assert response.json()["user"]["email"] == "gina@example.com"
    assert response.json()["user"]["avatar_url"] == "https://a/gina.png"
    assert SocialAccount.objects.filter(provider="google", uid="g-1001").exists()


def test_existing_account_with_the_verified_email_is_linked_not_duplicated(api_client, oauth_provider):
    existing = UserFactory(email="octo@example.com", name="")
    state = start(api_client, "github")["state"]
    response = callback(api_client, "github", code=GOOD_CODE, state=state)
    assert response.status_code == 200
    assert response.json()["user"]["id"] == str(existing.pk)
    assert User.objects.filter(email="octo@example.com").count() == 1
    existing.refresh_from_db()
    assert existing.verified is True and existing.name == "Octo Cat"
    assert existing.has_usable_password()  # linking does not touch the password
    # Signing in again goes through the recorded identity, even if the email changed at the provider.
    oauth_provider.github_emails = [{"email": "renamed@example.com", "primary": True, "verified": True}]
    state = start(api_client, "github")["state"]
    again = callback(api_client, "github", code=GOOD_CODE, state=state)
    assert again.json()["user"]["id"] == str(existing.pk)
    assert SocialAccount.objects.filter(user=existing).count() == 1


def test_unverified_provider_email_never_links_to_an_existing_account(api_client, oauth_provider):
    UserFactory(email="gina@example.com")
    oauth_provider.google_user["email_verified"] = False
    state = start(api_client, "google")["state"]
    response = callback(api_client, "google", code=GOOD_CODE, state=state)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert not SocialAccount.objects.exists()


def test_unknown_state_is_refused(api_client, oauth_provider):
    start(api_client, "github")
    response = callback(api_client, "github", code=GOOD_CODE, state="forged-state-value")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and "state" in error["details"]
    assert oauth_provider.requests == []  # refused before talking to the provider


def test_replayed_state_is_refused(api_client, oauth_provider):
    state = start(api_client, "github")["state"]
    assert callback(api_client, "github", code=GOOD_CODE, state=state).status_code == 200
    replay = callback(api_client, "github", code=GOOD_CODE, state=state)
    assert replay.status_code == 400
    assert "state" in replay.json()["error"]["details"]


def test_state_of_another_provider_is_refused(api_client, oauth_provider):
    state = start(api_client, "github")["state"]
    response = callback(api_client, "google", code=GOOD_CODE, state=state)
    assert response.status_code == 400
    assert "state" in response.json()["error"]["details"]


def test_expired_state_is_refused(api_client, oauth_provider, settings):
    settings.OAUTH_STATE_TTL = 0  # Django caches treat timeout 0 as "expire immediately"
    state = start(api_client, "github")["state"]
    assert callback(api_client, "github", code=GOOD_CODE, state=state).status_code == 400


def test_missing_state_is_a_validation_error(api_client, oauth_provider):
    response = callback(api_client, "github", code=GOOD_CODE)
    assert response.status_code == 400
    assert "state" in response.json()["error"]["details"]


@pytest.mark.parametrize("provider", ["github", "google"])
def test_bad_code_answered_by_the_provider_is_a_clear_400(api_client, oauth_provider, provider):
    state = start(api_client, provider)["state"]
    response = callback(api_client, provider, code="stolen-or-stale", state=state)
    assert response.status_code == 400
    assert "The code is wrong" in response.json()["error"]["message"]
    assert not User.objects.exists()


def test_provider_server_error_is_a_400_not_a_500(api_client, oauth_provider):
    oauth_provider.user_status = 502
    state = start(api_client, "google")["state"]
    response = callback(api_client, "google", code=GOOD_CODE, state=state)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("The sign-in provider")


def test_unreachable_provider_is_a_400(api_client, oauth_provider, settings):
    state = start(api_client, "github")["state"]
    closed = "http://127.0.0.1:9/token"  # discard port: nothing listens there
    settings.OAUTH_ENDPOINTS = {
        **settings.OAUTH_ENDPOINTS,
        "github": {**settings.OAUTH_ENDPOINTS["github"], "token": closed},
    }
    response = callback(api_client, "github", code=GOOD_CODE, state=state)
    assert response.status_code == 400
    assert "could not be reached" in response.json()["error"]["message"]


def test_user_who_denied_access_at_the_provider_gets_a_400(api_client, oauth_provider):
    state = start(api_client, "github")["state"]
    response = callback(api_client, "github", error="access_denied", state=state)
    assert response.status_code == 400
    assert "access_denied" in response.json()["error"]["message"]


def test_unknown_provider_is_404(api_client, oauth_provider):
    assert api_client.post("/v1/auth/oauth/myspace").status_code == 404
    response = callback(api_client, "myspace", code=GOOD_CODE, state="x")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("provider,names", [("github", "GITHUB_CLIENT_ID"), ("google", "GOOGLE_CLIENT_ID")])
def test_provider_without_credentials_is_503_naming_the_missing_settings(
    api_client, settings, db, provider, names
):
    """Issue "Trust" §5: an unconfigured provider is the operator's to fix, not a missing resource (was 404)."""
    settings.SOCIALACCOUNT_PROVIDERS = {
        name: {k: v for k, v in conf.items() if k != "APP"}
        for name, conf in settings.SOCIALACCOUNT_PROVIDERS.items()
    }
    for response in (
        api_client.post(f"/v1/auth/oauth/{provider}"),
        callback(api_client, provider, code=GOOD_CODE, state="x" * 43),
    ):
        assert response.status_code == 503, response.content
        error = response.json()["error"]
        assert error["code"] == "SERVICE_UNAVAILABLE"
        assert names in error["message"]
        assert error["details"]["missing_settings"] == [names, names.replace("_ID", "_SECRET")]


def test_provider_with_a_client_id_but_no_secret_names_the_secret(api_client, settings, db):
    settings.SOCIALACCOUNT_PROVIDERS = {
        name: {**conf, "APP": {"client_id": "set", "secret": ""}}
        for name, conf in settings.SOCIALACCOUNT_PROVIDERS.items()
    }
    response = api_client.post("/v1/auth/oauth/github")
    assert response.status_code == 503
    assert response.json()["error"]["details"]["missing_settings"] == ["GITHUB_CLIENT_SECRET"]


def test_github_user_without_any_email_is_asked_to_share_one(api_client, oauth_provider):
    oauth_provider.github_emails = []
    state = start(api_client, "github")["state"]
    response = callback(api_client, "github", code=GOOD_CODE, state=state)
    assert response.status_code == 400
    assert "email" in response.json()["error"]["message"]
    assert not User.objects.exists()


def test_unverified_email_never_creates_an_account(api_client, oauth_provider):
    """Creating an account on an unverified address would let anyone squat it before its owner signs up."""
    oauth_provider.github_emails = [{"email": "new@example.com", "primary": True, "verified": False}]
    oauth_provider.github_user["email"] = "new@example.com"
    state = start(api_client, "github")["state"]
    response = callback(api_client, "github", code=GOOD_CODE, state=state)
    assert response.status_code == 400
    assert "verified" in response.json()["error"]["message"]
    assert not User.objects.exists()
    assert not SocialAccount.objects.exists()


def test_disabled_account_cannot_sign_in_through_the_provider(api_client, oauth_provider):
    UserFactory(email="octo@example.com", is_active=False)
    state = start(api_client, "github")["state"]
    response = callback(api_client, "github", code=GOOD_CODE, state=state)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


def test_pkce_when_the_provider_settings_ask_for_it(api_client, oauth_provider, settings):
    """allauth's PKCE (OAUTH_PKCE_ENABLED in SOCIALACCOUNT_PROVIDERS): the challenge goes in the authorize
    URL, and the verifier, kept with the state, goes with the code exchange."""
    import base64
    import hashlib

    settings.SOCIALACCOUNT_PROVIDERS = {
        **settings.SOCIALACCOUNT_PROVIDERS,
        "github": {**settings.SOCIALACCOUNT_PROVIDERS["github"], "OAUTH_PKCE_ENABLED": True},
    }
    query = start(api_client, "github")
    assert query["code_challenge_method"] == "S256"
    response = callback(api_client, "github", code=GOOD_CODE, state=query["state"])
    assert response.status_code == 200, response.content
    verifier = oauth_provider.requests[0][2]["code_verifier"]
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert digest == query["code_challenge"]


def test_a_provider_redirect_is_not_followed(api_client, oauth_provider, settings):
    """The provider URLs are exact: an answer that redirects elsewhere is a clear 400, never followed."""
    state = start(api_client, "github")["state"]
    settings.OAUTH_ENDPOINTS = {
        **settings.OAUTH_ENDPOINTS,
        "github": {**settings.OAUTH_ENDPOINTS["github"], "token": f"{oauth_provider.base_url}/redirect"},
    }
    response = callback(api_client, "github", code=GOOD_CODE, state=state)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("The sign-in provider")
    assert [p for _, p, _ in oauth_provider.requests] == ["/redirect"]
