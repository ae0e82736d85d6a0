"""Device registration (SPEC §5 Devices) and the md_ device token."""

import hashlib

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Device
from accounts.services import device_register, device_revoke

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


def test_idempotency_key_replays_the_first_registration(api_client):
    first = api_client.post(
        "/v1/devices", {"platform": "p", "mosis_version": "1.0"}, format="json", HTTP_IDEMPOTENCY_KEY="boot-1"
    )
    again = api_client.post(
        "/v1/devices", {"platform": "p", "mosis_version": "1.0"}, format="json", HTTP_IDEMPOTENCY_KEY="boot-1"
    )
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert Device.objects.count() == 1
    other_body = api_client.post(
        "/v1/devices", {"platform": "p", "mosis_version": "2.0"}, format="json", HTTP_IDEMPOTENCY_KEY="boot-1"
    )
    assert other_body.status_code == 409


def test_registration_is_rate_limited_as_auth(api_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth": "2/m"}
    assert register(api_client).status_code == 201
    assert register(api_client).status_code == 201
    limited = register(api_client)
    assert limited.status_code == 429
    assert limited["X-RateLimit-Remaining"] == "0"
