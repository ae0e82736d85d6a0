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
    again = api_client.post("/v1/auth/refresh", {"refresh_token": new["refresh_token"]}, format="json")
    assert again.status_code == 200  # the rotated-in token rotates in turn


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


def refresh(api_client, token):
    api_client.credentials()
    return api_client.post("/v1/auth/refresh", {"refresh_token": token}, format="json")


def test_replaying_a_rotated_refresh_token_revokes_its_whole_family(api_client, user, caplog):
    """Issue "Trust" §3: reuse is theft. The thief replays the original after the owner rotated it (or the
    other way round): the newer token stops working too, and the owner signs in again."""
    original = token_pair_for(user=user).refresh_token
    newer = refresh(api_client, original).json()["refresh_token"]
    newest = refresh(api_client, newer).json()["refresh_token"]
    with caplog.at_level("WARNING", logger="mosis.accounts"):
        replay = refresh(api_client, original)
    assert_unauthorized(replay)
    assert "already used" in replay.json()["error"]["message"]
    assert_unauthorized(refresh(api_client, newest))  # the live descendant is dead too
    assert "refresh token reuse" in caplog.text and original not in caplog.text


def test_reuse_leaves_other_sign_ins_of_the_same_user_alive(api_client, user):
    laptop = token_pair_for(user=user).refresh_token
    phone = token_pair_for(user=user).refresh_token
    rotated = refresh(api_client, laptop).json()["refresh_token"]
    assert_unauthorized(refresh(api_client, laptop))
    assert_unauthorized(refresh(api_client, rotated))
    assert refresh(api_client, phone).status_code == 200


def test_reuse_is_counted_in_a_metric(api_client, user):
    from prometheus_client import REGISTRY

    before = REGISTRY.get_sample_value("mosis_refresh_token_reuse_total") or 0
    original = token_pair_for(user=user).refresh_token
    refresh(api_client, original)
    refresh(api_client, original)
    assert REGISTRY.get_sample_value("mosis_refresh_token_reuse_total") == before + 1


def test_a_forged_refresh_token_naming_a_family_revokes_nothing(api_client, user):
    """Reuse detection only trusts tokens with our signature: a forged one cannot log a victim out."""
    from rest_framework_simplejwt.tokens import RefreshToken

    live = token_pair_for(user=user).refresh_token
    claims = dict(RefreshToken(live).payload)
    forged = jwt.encode(claims, "not-the-server-key-" * 3, algorithm="HS256")
    assert_unauthorized(refresh(api_client, forged))
    assert refresh(api_client, live).status_code == 200


def test_a_token_issued_before_families_rotates_and_its_reuse_revokes_its_descendants(api_client, user):
    from rest_framework_simplejwt.tokens import RefreshToken

    legacy = str(RefreshToken.for_user(user))  # no family claim
    newer = refresh(api_client, legacy).json()["refresh_token"]
    assert_unauthorized(refresh(api_client, legacy))
    assert_unauthorized(refresh(api_client, newer))


def test_logout_with_an_already_rotated_token_still_ends_the_sign_in(api_client, user):
    pair = token_pair_for(user=user)
    newer = refresh(api_client, pair.refresh_token).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {newer['access_token']}")
    response = api_client.post("/v1/auth/logout", {"refresh_token": pair.refresh_token}, format="json")
    assert response.status_code == 200
    assert_unauthorized(refresh(api_client, newer["refresh_token"]))


def test_logout_twice_is_harmless(api_client, user):
    pair = token_pair_for(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access_token}")
    for _ in range(2):
        response = api_client.post("/v1/auth/logout", {"refresh_token": pair.refresh_token}, format="json")
        assert response.status_code == 200


def test_logout_with_an_access_token_in_place_of_the_refresh_token_is_400(api_client, user):
    pair = token_pair_for(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access_token}")
    response = api_client.post("/v1/auth/logout", {"refresh_token": pair.access_token}, format="json")
    assert response.status_code == 400
    assert "refresh_token" in response.json()["error"]["details"]
