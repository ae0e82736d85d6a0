"""Admin pages for developers and credentials, and allauth browser sign-in at /accounts/login/."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.contrib.admin.models import LogEntry
from django.test import Client

from accounts.models import ApiKey, Device, SigningKey
from accounts.services import api_key_create, device_register, signing_key_register
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_browser(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


def test_users_are_searchable_by_email(admin_browser):
    UserFactory(email="findme@example.com")
    UserFactory(email="hidden@example.com")
    response = admin_browser.get("/admin/accounts/user/", {"q": "findme"})
    assert response.status_code == 200
    assert b"findme@example.com" in response.content
    assert b"hidden@example.com" not in response.content


def test_user_add_and_change_pages_render(admin_browser, user):
    assert admin_browser.get("/admin/accounts/user/add/").status_code == 200
    assert admin_browser.get(f"/admin/accounts/user/{user.pk}/change/").status_code == 200


def test_api_key_pages_never_show_the_secret_or_its_hash(admin_browser, user):
    key, secret = api_key_create(user=user, name="ci", scopes=["apps:read"])
    for url in ("/admin/accounts/apikey/", f"/admin/accounts/apikey/{key.pk}/change/"):
        response = admin_browser.get(url)
        assert response.status_code == 200
        assert key.key_prefix.encode() in response.content
        assert secret.encode() not in response.content
        assert key.key_hash.encode() not in response.content


def test_revoke_actions_call_the_services_and_are_logged(admin_browser, user):
    key, _ = api_key_create(user=user, name="ci", scopes=["apps:read"])
    pem = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    signing = signing_key_register(user=user, name="release", public_key=pem)
    device, _ = device_register(platform="phone", mosis_version="1.0")
    for url, obj in (
        ("/admin/accounts/apikey/", key),
        ("/admin/accounts/signingkey/", signing),
        ("/admin/accounts/device/", device),
    ):
        response = admin_browser.post(url, {"action": "revoke", "_selected_action": [str(obj.pk)]})
        assert response.status_code == 302
    assert ApiKey.objects.get().revoked_at is not None
    assert SigningKey.objects.get().revoked_at is not None  # the record is kept
    assert Device.objects.get().revoked_at is not None
    assert LogEntry.objects.filter(change_message="Revoked").count() == 3


def test_non_staff_cannot_reach_the_admin(user):
    client = Client()
    client.force_login(user)
    response = client.get("/admin/accounts/apikey/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_browser_sign_in_with_email_and_password(user):
    client = Client()
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert b"password" in page.content
    response = client.post("/accounts/login/", {"login": user.email, "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(user.pk)


def test_browser_sign_in_with_a_wrong_password_stays_on_the_form(user):
    client = Client()
    response = client.post("/accounts/login/", {"login": user.email, "password": "nope-nope-nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_browser_signup_page_renders(db):
    assert Client().get("/accounts/signup/").status_code == 200
