"""API keys (SPEC §4, seed 000 "API Keys"): shown once, hashed, scoped, expiring, revocable."""

import hashlib
import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey
from accounts.services import api_key_create, api_key_revoke

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_ratelimits")]


def create(client, **body):
    body = {"name": "CI", "permissions": ["apps:read"]} | body
    return client.post("/v1/keys", body, format="json")


def key_client(secret, header="bearer"):
    client = APIClient()
    if header == "bearer":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    else:
        client.credentials(HTTP_X_API_KEY=secret)
    return client


def test_create_returns_the_secret_once_and_stores_only_its_hash(auth_client, user):
    response = create(auth_client, name="Deploy", permissions=["apps:read", "versions:upload"])
    assert response.status_code == 201
    body = response.json()
    secret = body["secret"]
    assert secret.startswith("mk_live_") and len(secret) >= 40
    assert set(body["key"]) == {
        "id",
        "name",
        "key_prefix",
        "permissions",
        "last_used_at",
        "expires_at",
        "created_at",
    }
    assert body["key"]["key_prefix"] == secret[:12]
    assert body["key"]["permissions"] == ["apps:read", "versions:upload"]
    stored = ApiKey.objects.get(pk=body["key"]["id"])
    assert stored.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiKey.objects.filter(pk=stored.pk).values().first())
    listing = auth_client.get("/v1/keys")
    assert listing.status_code == 200
    assert secret not in listing.content.decode()
    assert [k["id"] for k in listing.json()["keys"]] == [str(stored.pk)]
    assert listing.json()["total"] == 1


@pytest.mark.parametrize("header", ["bearer", "x-api-key"])
def test_key_authenticates_with_both_header_forms_and_records_use(user, header):
    key, secret = api_key_create(user=user, name="k", scopes=["apps:read"])
    response = key_client(secret, header).get("/v1/auth/me")
    assert response.status_code == 200
    assert response.json()["id"] == str(user.pk)
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_expired_key_is_401(user):
    key, secret = api_key_create(user=user, name="k", scopes=["apps:read"])
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = key_client(secret).get("/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


def test_revoked_key_is_401_and_leaves_the_list(auth_client, user):
    key, secret = api_key_create(user=user, name="k", scopes=["apps:read"])
    response = auth_client.delete(f"/v1/keys/{key.pk}")
    assert response.status_code == 200
    assert response.json() == {"success": True}
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert key_client(secret, "x-api-key").get("/v1/auth/me").status_code == 401
    assert auth_client.get("/v1/keys").json()["keys"] == []
    assert auth_client.delete(f"/v1/keys/{key.pk}").status_code == 200  # revoking twice is harmless


def test_unknown_key_secret_is_401(db):
    assert key_client("mk_live_" + "x" * 40).get("/v1/auth/me").status_code == 401


def test_key_without_the_scope_gets_403_naming_it(user):
    _, secret = api_key_create(user=user, name="k", scopes=["apps:read"])
    client = key_client(secret)
    for response in (client.get("/v1/keys"), create(client)):
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["code"] == "FORBIDDEN"
        assert "keys:manage" in error["message"]


def test_key_with_keys_manage_cannot_grant_a_scope_it_lacks(user):
    _, secret = api_key_create(user=user, name="admin", scopes=["keys:manage", "apps:read"])
    client = key_client(secret)
    refused = create(client, permissions=["apps:read", "versions:publish"])
    assert refused.status_code == 403
    assert "versions:publish" in refused.json()["error"]["message"]
    assert create(client, permissions=["apps:read"]).status_code == 201


@pytest.mark.parametrize(
    "body,field",
    [
        ({"permissions": ["apps:read", "root"]}, "permissions"),
        ({"permissions": []}, "permissions"),
        ({"name": ""}, "name"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"expires_at": "not a date"}, "expires_at"),
    ],
)
def test_invalid_key_requests_are_400_with_field_details(auth_client, body, field):
    response = create(auth_client, **body)
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not ApiKey.objects.exists()


def test_expiry_in_the_future_is_kept(auth_client):
    expires = (timezone.now() + timedelta(days=30)).isoformat()
    response = create(auth_client, expires_at=expires)
    assert response.status_code == 201
    assert response.json()["key"]["expires_at"] is not None


def test_another_users_key_is_404(auth_client, other_user):
    theirs, _ = api_key_create(user=other_user, name="theirs", scopes=["apps:read"])
    response = auth_client.delete(f"/v1/keys/{theirs.pk}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_device_token_cannot_manage_keys(api_client, db):
    token = api_client.post(
        "/v1/devices", {"platform": "linux", "mosis_version": "1.0"}, format="json"
    ).json()["device_token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/v1/keys").status_code == 401


def test_secret_is_never_logged_during_creation_and_use(auth_client, caplog):
    caplog.set_level(logging.DEBUG)
    response = create(auth_client, permissions=["apps:read", "keys:manage"])
    secret = response.json()["secret"]
    key_client(secret).get("/v1/keys")
    key_client(secret, "x-api-key").get("/v1/auth/me")
    key_client(secret + "tampered").get("/v1/auth/me")
    assert any("api key created" in r.getMessage() for r in caplog.records)  # logging did happen
    logged = "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
    assert secret not in logged
    assert secret[12:] not in logged


def test_list_is_paginated(auth_client, user):
    for n in range(3):
        api_key_create(user=user, name=f"k{n}", scopes=["apps:read"])
    body = auth_client.get("/v1/keys", {"limit": 2, "page": 2}).json()
    assert len(body["keys"]) == 1
    assert body["pagination"] == {"page": 2, "limit": 2, "total": 3, "total_pages": 2, "total_exact": True}


@pytest.mark.parametrize("count", [1, 50])
def test_list_query_count_does_not_grow_with_keys(
    auth_client, user, django_assert_num_queries, count, settings
):
    settings.MAX_ACTIVE_API_KEYS_PER_USER = 50
    for n in range(count):
        api_key_create(user=user, name=f"k{n}", scopes=["apps:read"])
    # JWT user, count, page.
    with django_assert_num_queries(3):
        response = auth_client.get("/v1/keys", {"limit": 100})
    assert len(response.json()["keys"]) == count


def test_revoke_service_is_idempotent(user):
    key, _ = api_key_create(user=user, name="k", scopes=["apps:read"])
    first = api_key_revoke(key=key).revoked_at
    assert api_key_revoke(key=key).revoked_at == first


def test_create_api_key_command_prints_the_secret_once(user, capsys):
    call_command("create_api_key", email=user.email, name="CI", scopes="apps:read,apps:write", expires_days=7)
    out = capsys.readouterr().out
    secret = next(line for line in out.splitlines() if line.startswith("mk_live_"))
    key = ApiKey.objects.get(user=user)
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert key.scopes == ["apps:read", "apps:write"]
    assert key.expires_at is not None
    assert key_client(secret).get("/v1/auth/me").status_code == 200


@pytest.mark.parametrize(
    "options,message",
    [
        ({"email": "nobody@example.com", "scopes": "apps:read"}, "No user"),
        ({"scopes": "apps:read,sudo"}, "Unknown scope"),
        ({"scopes": ","}, "at least one scope"),
        ({"scopes": "apps:read", "expires_days": 0}, "--expires-days"),
    ],
)
def test_create_api_key_command_refuses_bad_input(user, options, message):
    options = {"email": user.email, "name": "CI"} | options
    with pytest.raises(CommandError, match=message):
        call_command("create_api_key", **options)
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize(
    "body,field",
    [({"name": 5}, "name"), ({"permissions": [1]}, "permissions.0"), ({"name": "x" * 101}, "name")],
)
def test_key_creation_input_is_strict(auth_client, body, field):
    response = create(auth_client, **body)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"]
    assert not ApiKey.objects.exists()


def test_one_developer_minting_keys_in_a_loop_is_stopped_at_the_cap(auth_client, user, settings):
    """Issue "Trust" §3: one developer minted keys to multiply their budget; active keys are capped per user."""
    settings.MAX_ACTIVE_API_KEYS_PER_USER = 3
    statuses = [create(auth_client, name=f"k{n}").status_code for n in range(5)]
    assert statuses == [201, 201, 201, 409, 409]
    refused = create(auth_client).json()["error"]
    assert refused["code"] == "CONFLICT"
    assert "At most 3 active API keys" in refused["message"]
    assert "MAX_ACTIVE_API_KEYS_PER_USER" in refused["message"]
    assert ApiKey.objects.filter(user=user).count() == 3
    api_key_revoke(key=ApiKey.objects.filter(user=user).first())
    assert create(auth_client).status_code == 201  # a revoked key frees its slot


def test_expired_keys_do_not_count_toward_the_cap(auth_client, user, settings):
    settings.MAX_ACTIVE_API_KEYS_PER_USER = 1
    key, _ = api_key_create(user=user, name="old", scopes=["apps:read"])
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert create(auth_client).status_code == 201
    assert create(auth_client).status_code == 409


def test_the_default_cap_is_25(settings):
    assert settings.MAX_ACTIVE_API_KEYS_PER_USER == 25
