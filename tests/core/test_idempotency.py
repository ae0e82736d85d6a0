"""SPEC §3 ``Idempotency-Key``: a repeat replays the first response and creates nothing; another body is 409;
a request still running is 409; keys expire after 24 h."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from mosis.core.models import IdempotencyRecord

pytestmark = [pytest.mark.urls("tests.core.probe_urls"), pytest.mark.django_db]


def create(client, name="alpha", key="key-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/v1/_probe/create", {"name": name}, format="json", **headers)


def test_a_replay_returns_the_first_response_and_creates_nothing(auth_client):
    first = create(auth_client)
    assert first.status_code == 201
    again = create(auth_client)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Group.objects.count() == 1


def test_the_same_key_with_another_body_is_409(auth_client):
    create(auth_client, name="alpha")
    response = create(auth_client, name="beta")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CONFLICT"
    assert Group.objects.count() == 1


def test_a_key_still_in_flight_is_409(auth_client, user):
    import hashlib
    import json

    body = json.dumps({"name": "alpha"}).encode()
    IdempotencyRecord.objects.create(
        client=f"user:{user.pk}",
        key="key-1",
        method="POST",
        path="/v1/_probe/create",
        body_hash=hashlib.sha256(body).hexdigest(),
    )
    response = auth_client.post(
        "/v1/_probe/create", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="key-1"
    )
    assert response.status_code == 409
    assert "in progress" in response.json()["error"]["message"]
    assert Group.objects.count() == 0


def test_keys_expire_after_24_hours(auth_client):
    create(auth_client)
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=24, minutes=1))
    response = create(auth_client, name="beta")
    assert response.status_code == 201
    assert Group.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 1


def test_keys_are_scoped_to_the_client(auth_client, other_client):
    create(auth_client, name="alpha")
    assert create(other_client, name="beta").status_code == 201
    assert Group.objects.count() == 2


def test_without_a_key_every_request_runs(auth_client):
    create(auth_client, name="a", key=None)
    create(auth_client, name="b", key=None)
    assert Group.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 0


def test_a_failed_request_does_not_burn_the_key(auth_client):
    response = auth_client.post("/v1/_probe/create", {}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 400
    assert IdempotencyRecord.objects.count() == 0
    response = auth_client.post(
        "/v1/_probe/create", {"name": "fixed"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 201


@pytest.mark.parametrize("key", ["x" * 256, "bad\x01key"])
def test_an_unusable_key_is_400(auth_client, key):
    response = create(auth_client, key=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["details"]
    assert Group.objects.count() == 0


def test_stored_responses_are_encrypted_at_rest(auth_client):
    """A first response may carry a secret shown once: the table never holds it in clear."""
    first = create(auth_client, name="secret-group-name", key="sealed-1")
    assert first.status_code == 201
    record = IdempotencyRecord.objects.get(key="sealed-1")
    assert "secret-group-name" not in str(record.response_body)
    assert set(record.response_body) == {"sealed"}
    replay = create(auth_client, name="secret-group-name", key="sealed-1")
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"


def test_a_response_sealed_under_an_old_secret_key_is_a_409_not_a_500(auth_client, settings):
    assert create(auth_client, key="sealed-2").status_code == 201
    settings.SECRET_KEY = "rotated-secret-key-0123456789-abcdefghijklmnop"
    replay = create(auth_client, key="sealed-2")
    assert replay.status_code == 409
    assert replay.json()["error"]["code"] == "CONFLICT"
    assert Group.objects.count() == 1


def test_the_idempotency_principal_is_the_developer_or_the_device_never_the_ip(user):
    from types import SimpleNamespace

    from django.contrib.auth.models import AnonymousUser

    from accounts.services import device_register
    from mosis.core.idempotency import idempotency_principal

    device, _ = device_register(platform="p", mosis_version="1.0")
    assert idempotency_principal(SimpleNamespace(user=user, auth=None)) == f"user:{user.pk}"
    assert idempotency_principal(SimpleNamespace(user=AnonymousUser(), auth=device)) == f"device:{device.pk}"
    assert idempotency_principal(SimpleNamespace(user=AnonymousUser(), auth=None)) is None
