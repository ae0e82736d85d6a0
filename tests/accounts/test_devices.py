"""Device registration (SPEC §5 Devices) and the md_ device token."""

import hashlib

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Device
from accounts.services import device_register, device_revoke
from mosis.core.models import IdempotencyRecord

pytestmark = pytest.mark.django_db


def register(client, **body):
    return client.post(
        "/v1/devices", {"platform": "mosis-phone", "mosis_version": "1.4.2"} | body, format="json"
    )


def test_registration_returns_an_md_token_stored_only_as_its_hash(api_client):
    response = register(api_client)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"device_id", "device_token"}
    assert body["device_token"].startswith("md_")
    device = Device.objects.get(pk=body["device_id"])
    assert device.token_hash == hashlib.sha256(body["device_token"].encode()).hexdigest()
    assert (device.platform, device.mosis_version) == ("mosis-phone", "1.4.2")


def test_registration_ignores_a_stale_authorization_header(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer md_revoked-or-garbage")
    assert register(api_client).status_code == 201


@pytest.mark.parametrize(
    "body,field",
    [
        ({"mosis_version": "one"}, "mosis_version"),
        ({"mosis_version": "1.2.3.4"}, "mosis_version"),
        ({"mosis_version": "1.2345"}, "mosis_version"),
        ({"platform": ""}, "platform"),
        ({"platform": "x" * 51}, "platform"),
    ],
)
def test_invalid_registration_is_400(api_client, body, field):
    response = register(api_client, **body)
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not Device.objects.exists()


def test_device_token_authenticates_but_is_not_a_developer_credential(api_client):
    device, token = device_register(platform="editor", mosis_version="2.0")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api_client.get("/v1/auth/me")
    # A recognised device token: 401 with the "not here" message (an unknown one says "Invalid device token").
    assert response.status_code == 401
    assert "device token cannot be used here" in response.json()["error"]["message"]
    device.refresh_from_db()
    assert device.last_seen_at is not None and device.last_seen_at <= timezone.now()


def test_unknown_and_revoked_device_tokens_are_refused(api_client):
    device, token = device_register(platform="editor", mosis_version="2.0")
    device_revoke(device=device)
    for value in (token, "md_" + "x" * 40):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {value}")
        response = client.get("/v1/auth/me")
        assert response.status_code == 401
        assert response.json()["error"]["message"] == "Invalid device token."


def test_an_anonymous_replay_of_the_idempotency_key_never_hands_out_the_first_device_token(api_client):
    """Issue "Trust" §3: the same Idempotency-Key from the same IP used to return the first device's token to
    whoever sent it. An anonymous request has no idempotency scope: each one registers its own device."""
    body = {"platform": "p", "mosis_version": "1.0"}
    first = api_client.post("/v1/devices", body, format="json", HTTP_IDEMPOTENCY_KEY="boot-1")
    attacker = APIClient()  # same IP (the test client's), same key
    second = attacker.post("/v1/devices", body, format="json", HTTP_IDEMPOTENCY_KEY="boot-1")
    assert first.status_code == second.status_code == 201
    assert second.json()["device_token"] != first.json()["device_token"]
    assert second.json()["device_id"] != first.json()["device_id"]
    assert "Idempotent-Replayed" not in second
    assert Device.objects.count() == 2
    assert not IdempotencyRecord.objects.exists()  # the first answer (with its token) was never stored


def test_an_anonymous_request_with_another_body_under_the_same_key_is_not_a_conflict(api_client):
    body = {"platform": "p", "mosis_version": "1.0"}
    api_client.post("/v1/devices", body, format="json", HTTP_IDEMPOTENCY_KEY="boot-1")
    other = api_client.post(
        "/v1/devices", body | {"mosis_version": "2.0"}, format="json", HTTP_IDEMPOTENCY_KEY="boot-1"
    )
    assert other.status_code == 201


def test_registration_is_rate_limited_as_auth(api_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth": "2/m"}
    assert register(api_client).status_code == 201
    assert register(api_client).status_code == 201
    limited = register(api_client)
    assert limited.status_code == 429
    assert limited["X-RateLimit-Remaining"] == "0"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"mosis_version": 0}, "mosis_version"),
        ({"mosis_version": 1.4}, "mosis_version"),
        ({"platform": 7}, "platform"),
        ({"platform": True}, "platform"),
        ({"platform": ["phone"]}, "platform"),
        ({"mosis_version": "1"}, "mosis_version"),
    ],
)
def test_registration_refuses_what_the_schema_refuses(api_client, body, field):
    """Issue "Trust" §4: ``{"mosis_version": 0}`` used to be a 201 (DRF turned the number into "0")."""
    response = register(api_client, **body)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"]
    assert not Device.objects.exists()


def test_the_schema_states_the_registration_limits(api_client):
    schema = api_client.get("/v1/openapi.json").json()
    props = schema["components"]["schemas"]["DeviceRegisterRequest"]["properties"]
    assert props["platform"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 50,
        "pattern": "^[^\\u0000]*$",
    }
    assert props["mosis_version"]["maxLength"] == 11
    assert props["mosis_version"]["pattern"] == r"^[0-9]{1,3}\.[0-9]{1,3}(\.[0-9]{1,3})?$"
