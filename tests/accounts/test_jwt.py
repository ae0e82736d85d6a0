"""JWT sign-in, refresh rotation, logout and forged tokens (SPEC §4)."""

import base64
import json
import time
import uuid

import jwt
import pytest
from django.conf import settings

from accounts.services import token_pair_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def sign_in(api_client, email, password=PASSWORD):
    return api_client.post("/v1/auth/token", {"email": email, "password": password}, format="json")


def assert_unauthorized(response):
    assert response.status_code == 401, response.content
    error = response.json()["error"]
    assert error["code"] == "UNAUTHORIZED"
    assert set(error) == {"code", "message", "details", "request_id"}
    assert error["request_id"] == response["X-Request-ID"]


def me_with(api_client, token):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client.get("/v1/auth/me")


def test_email_and_password_give_a_working_pair_and_the_developer(api_client, user):
    response = sign_in(api_client, user.email.upper())
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "user"}
    assert set(body["user"]) == {"id", "email", "name", "avatar_url", "verified", "created_at", "updated_at"}
    me = me_with(api_client, body["access_token"])
    assert me.status_code == 200
    assert me.json() == body["user"]
    assert me.json()["id"] == str(user.pk)


@pytest.mark.parametrize("email,password", [("dev-nobody@example.com", PASSWORD), (None, "wrong-password")])
def test_wrong_credentials_are_401_with_one_message(api_client, user, email, password):
    response = sign_in(api_client, email or user.email, password)
    assert_unauthorized(response)
    assert response.json()["error"]["message"] == "Invalid email or password."


def test_inactive_user_cannot_sign_in(api_client):
    user = UserFactory(is_active=False)
    assert_unauthorized(sign_in(api_client, user.email))


def test_missing_fields_are_a_validation_error(api_client, db):
    response = api_client.post("/v1/auth/token", {"email": "x@example.com"}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()["error"]["details"]


def test_me_without_credentials_is_401(api_client, db):
    assert_unauthorized(api_client.get("/v1/auth/me"))


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(user, **extra):
    now = int(time.time())
    return {
        "token_type": "access",
        "exp": now + 600,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "user_id": str(user.pk),
        **extra,
    }


def test_alg_none_token_is_401(api_client, user):
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(user))}."
    assert_unauthorized(me_with(api_client, token))


def test_token_signed_with_another_key_is_401(api_client, user):
    token = jwt.encode(_claims(user), "not-the-server-key-" * 3, algorithm="HS256")
    assert_unauthorized(me_with(api_client, token))


def test_expired_token_is_401(api_client, user):
    now = int(time.time())
    token = jwt.encode(
        _claims(user, exp=now - 60, iat=now - 1000), settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256"
    )
    assert_unauthorized(me_with(api_client, token))


def test_correctly_signed_token_is_accepted(api_client, user):
    """The control for the three tests above: the same claims signed with the server key work."""
    token = jwt.encode(_claims(user), settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")
    assert me_with(api_client, token).status_code == 200


def test_refresh_token_is_not_an_access_token(api_client, user):
    pair = token_pair_for(user=user)
    assert_unauthorized(me_with(api_client, pair.refresh_token))


def test_refresh_rotates_and_the_old_refresh_token_is_dead(api_client, user):
    pair = token_pair_for(user=user)
    response = api_client.post("/v1/auth/refresh", {"refresh_token": pair.refresh_token}, format="json")
    assert response.status_code == 200
    new = response.json()
    assert set(new) == {"access_token", "refresh_token"}
    assert new["refresh_token"] != pair.refresh_token
    assert me_with(api_client, new["access_token"]).status_code == 200
    api_client.credentials()
    reuse = api_client.post("/v1/auth/refresh", {"refresh_token": pair.refresh_token}, format="json")
    assert_unauthorized(reuse)
    # The rotated token still works once.
    again = api_client.post("/v1/auth/refresh", {"refresh_token": new["refresh_token"]}, format="json")
    assert again.status_code == 200


def test_access_token_cannot_be_used_to_refresh(api_client, user):
    pair = token_pair_for(user=user)
    response = api_client.post("/v1/auth/refresh", {"refresh_token": pair.access_token}, format="json")
    assert_unauthorized(response)


def test_garbage_refresh_token_is_401(api_client, db):
    assert_unauthorized(api_client.post("/v1/auth/refresh", {"refresh_token": "x.y.z"}, format="json"))


def test_refresh_after_logout_is_401(api_client, user):
    pair = token_pair_for(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access_token}")
    response = api_client.post("/v1/auth/logout", {"refresh_token": pair.refresh_token}, format="json")
    assert response.status_code == 200
    assert response.json() == {"success": True}
    api_client.credentials()
    assert_unauthorized(
        api_client.post("/v1/auth/refresh", {"refresh_token": pair.refresh_token}, format="json")
    )


def test_logout_requires_authentication(api_client, user):
    pair = token_pair_for(user=user)
    assert_unauthorized(
        api_client.post("/v1/auth/logout", {"refresh_token": pair.refresh_token}, format="json")
    )


def test_logout_with_another_users_refresh_token_is_refused_and_leaves_it_alive(api_client, user, other_user):
    theirs = token_pair_for(user=other_user)
    mine = token_pair_for(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {mine.access_token}")
    response = api_client.post("/v1/auth/logout", {"refresh_token": theirs.refresh_token}, format="json")
    assert response.status_code == 400
    assert "refresh_token" in response.json()["error"]["details"]
    api_client.credentials()
    assert (
        api_client.post(
            "/v1/auth/refresh", {"refresh_token": theirs.refresh_token}, format="json"
        ).status_code
        == 200
    )


def test_refresh_for_a_deactivated_user_is_401(api_client, user):
    pair = token_pair_for(user=user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert_unauthorized(
        api_client.post("/v1/auth/refresh", {"refresh_token": pair.refresh_token}, format="json")
    )


def test_sign_in_is_rate_limited_in_the_auth_category(api_client, user, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth": "3/m"}
    for _ in range(3):
        response = sign_in(api_client, user.email, "wrong-password")
        assert response.status_code == 401
        assert response["X-RateLimit-Limit"] == "3"
    limited = sign_in(api_client, user.email)
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    assert int(limited["Retry-After"]) >= 1


@pytest.mark.parametrize(
    "path,body,field",
    [
        ("/v1/auth/token", {"email": 12, "password": "x"}, "email"),
        ("/v1/auth/token", {"email": "a@example.com", "password": 12345678}, "password"),
        ("/v1/auth/refresh", {"refresh_token": 1}, "refresh_token"),
        ("/v1/auth/token", {"email": "a@example.com", "password": "x" * 129}, "password"),
    ],
)
def test_auth_bodies_are_strict(api_client, db, path, body, field):
    response = api_client.post(path, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"]
