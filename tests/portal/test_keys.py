"""API keys (scopes, expiry, the secret shown once, revoke) and signing keys (PEM, fingerprint, revoke)."""

import html
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.urls import reverse

from accounts.models import ApiKey, SigningKey
from accounts.tokens import hash_secret

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def new_pem() -> str:
    return (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_a_new_key_shows_its_secret_once_and_then_only_its_prefix(browser, user):
    until = date.today() + timedelta(days=30)
    response = browser.post(
        reverse("portal:api-keys"),
        {"name": "CI", "permissions": ["apps:read", "versions:upload"], "expires_on": until.isoformat()},
    )
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    key = ApiKey.objects.get(user=user)
    secret = (
        response.content.decode().split('id="new-secret" class="mono" type="text" value="')[1].split('"')[0]
    )
    assert secret.startswith("mk_live_")
    assert key.key_hash == hash_secret(secret)
    assert key.scopes == ["apps:read", "versions:upload"]
    assert key.expires_at == datetime.combine(until + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert "shown this once" in text(response)
    assert 'data-copy-target="new-secret"' in response.content.decode()

    later = browser.get(reverse("portal:api-keys")).content.decode()
    assert secret not in later
    assert f"{key.key_prefix}…" in later
    assert "versions:upload" in later


def test_a_key_needs_a_name_and_a_scope_with_the_apis_messages(browser, user):
    response = browser.post(reverse("portal:api-keys"), {"name": "", "permissions": []})
    assert response.status_code == 400
    page = text(response)
    assert "This field may not be blank." in page
    assert "Ensure this field has at least 1 elements." in page
    assert not ApiKey.objects.exists()


def test_an_expiry_in_the_past_is_refused_by_the_service(browser):
    response = browser.post(
        reverse("portal:api-keys"), {"name": "old", "permissions": ["apps:read"], "expires_on": "2001-01-01"}
    )
    assert response.status_code == 400
    assert "Must be in the future." in text(response)
    bad_day = browser.post(
        reverse("portal:api-keys"), {"name": "old", "permissions": ["apps:read"], "expires_on": "2026-02-31"}
    )
    assert "Enter a date as YYYY-MM-DD." in text(bad_day)


def test_an_unknown_scope_is_refused(browser):
    response = browser.post(reverse("portal:api-keys"), {"name": "x", "permissions": ["root"]})
    assert response.status_code == 400
    assert "Unknown scope: root" in text(response)


def test_revoking_a_key(browser, user):
    browser.post(reverse("portal:api-keys"), {"name": "temp", "permissions": ["apps:read"]})
    key = ApiKey.objects.get()
    response = browser.post(reverse("portal:api-key-revoke", args=[key.pk]), follow=True)
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert "was revoked" in text(response)
    assert "No active keys." in text(response)


def test_adding_a_signing_key_shows_its_fingerprint(browser, user):
    pem = new_pem()
    response = browser.post(
        reverse("portal:signing-keys"), {"name": "release", "public_key": pem}, follow=True
    )
    key = SigningKey.objects.get(user=user)
    page = text(response)
    assert f"Fingerprint: {key.fingerprint}" in page
    assert key.fingerprint in page.split("Your keys", 1)[1]
    assert "Ed25519" in page
    duplicate = browser.post(reverse("portal:signing-keys"), {"name": "again", "public_key": pem})
    assert duplicate.status_code == 400
    assert "Already registered." in text(duplicate)


def test_a_bad_pem_is_a_field_error(browser):
    response = browser.post(
        reverse("portal:signing-keys"), {"name": "bad", "public_key": "-----BEGIN nonsense"}
    )
    assert response.status_code == 400
    page = text(response)
    assert 'id="id_public_key_errors"><li>' in response.content.decode()
    assert "-----BEGIN nonsense" in page  # what was pasted stays in the form
    assert not SigningKey.objects.exists()


def test_revoking_a_signing_key_keeps_it_on_record(browser, user):
    browser.post(reverse("portal:signing-keys"), {"name": "old", "public_key": new_pem()})
    key = SigningKey.objects.get()
    response = browser.post(reverse("portal:signing-key-revoke", args=[key.pk]), follow=True)
    key.refresh_from_db()
    assert key.revoked_at is not None
    page = text(response)
    assert "stay verifiable" in page
    assert "revoked" in page.split("Your keys", 1)[1]
    assert key.fingerprint in page
