"""Who may see what in the portal: sign-in required everywhere; another developer's app (with its analytics
and crash groups), version, key or webhook is a 404 on every page and every action (SPEC §4, §11), and nothing about it changes."""

import uuid

import pytest
from django.urls import reverse

from accounts.models import ApiKey, SigningKey
from accounts.services import api_key_create
from apps.models import App, Webhook, WebhookDelivery
from apps.webhooks.services import webhook_create
from telemetry.services import crash_report_submit
from tests.factories import UserFactory
from tests.portal.conftest import make_app, make_version
from tests.versions.pipeline import register_signing_key
from versions.constants import VersionStatus
from versions.models import AppVersion

pytestmark = pytest.mark.django_db

APP_PAGES = [
    ("GET", "portal:app"),
    ("GET", "portal:app-edit"),
    ("POST", "portal:app-edit"),
    ("POST", "portal:app-status"),
    ("GET", "portal:app-delete"),
    ("POST", "portal:app-delete"),
    ("GET", "portal:version-new"),
    ("POST", "portal:version-new"),
    ("GET", "portal:app-analytics"),
    ("GET", "portal:app-crashes"),
]
WEBHOOK_PAGES = [
    ("GET", "portal:webhook"),
    ("POST", "portal:webhook-ping"),
    ("POST", "portal:webhook-delete"),
]
VERSION_PAGES = [
    ("GET", "portal:version"),
    ("GET", "portal:version-status"),
    ("POST", "portal:version-upload-target"),
    ("POST", "portal:version-complete"),
    ("POST", "portal:version-submit"),
    ("POST", "portal:version-publish"),
    ("POST", "portal:version-yank"),
    ("POST", "portal:version-delete"),
]
FORM_DATA = {"name": "Stolen", "to": "unlisted", "version_name": "9.0.0", "version_code": "99"}


@pytest.fixture
def foreign():
    """Another developer's app with a version in every state an action could touch."""
    owner = UserFactory()
    app = make_app(owner, package_id="com.other.secret", name="Secret")
    version = make_version(app, status=VersionStatus.APPROVED)
    return app, version


def _call(client, method, url):
    return client.get(url) if method == "GET" else client.post(url, FORM_DATA)


@pytest.mark.parametrize(("method", "name"), APP_PAGES)
def test_another_developers_app_is_a_404_on_every_app_page(browser, foreign, method, name):
    app, _ = foreign
    response = _call(browser, method, reverse(name, args=[app.pk]))
    assert response.status_code == 404
    assert b"Secret" not in response.content
    app.refresh_from_db()
    assert (app.name, app.status) == ("Secret", "draft")
    assert App.objects.filter(pk=app.pk).exists()


@pytest.mark.parametrize(("method", "name"), VERSION_PAGES)
def test_another_developers_version_is_a_404_on_every_version_page(browser, foreign, method, name):
    app, version = foreign
    response = _call(browser, method, reverse(name, args=[app.pk, version.pk]))
    assert response.status_code == 404
    version.refresh_from_db()
    assert version.status == VersionStatus.APPROVED
    assert AppVersion.objects.filter(app=app).count() == 1


@pytest.mark.parametrize(("method", "name"), VERSION_PAGES)
def test_a_version_of_another_app_under_my_app_is_a_404(browser, app, foreign, method, name):
    _, version = foreign
    response = _call(browser, method, reverse(name, args=[app.pk, version.pk]))
    assert response.status_code == 404


def test_another_developers_crash_group_is_a_404(browser, foreign):
    app, _ = foreign
    group = crash_report_submit(app_id=app.pk, app_version="1.0.0", crash_type="Secret", owner=app.owner)
    response = browser.get(reverse("portal:app-crash", args=[app.pk, group.group_id]))
    assert response.status_code == 404
    assert b"Secret" not in response.content


@pytest.fixture
def foreign_webhook():
    webhook, _ = webhook_create(
        owner=UserFactory(), url="https://hooks.example.com/theirs", events=["crash.new"]
    )
    return webhook


@pytest.mark.parametrize(("method", "name"), WEBHOOK_PAGES)
def test_another_developers_webhook_is_a_404_on_every_webhook_page(browser, foreign_webhook, method, name):
    response = _call(browser, method, reverse(name, args=[foreign_webhook.pk]))
    assert response.status_code == 404
    assert Webhook.objects.filter(pk=foreign_webhook.pk).exists()
    assert not WebhookDelivery.objects.exists()  # no ping went out
    assert "hooks.example.com/theirs" not in browser.get(reverse("portal:webhooks")).content.decode()


def test_another_developers_keys_cannot_be_revoked(browser, db):
    owner = UserFactory()
    key, _ = api_key_create(user=owner, name="theirs", scopes=["apps:read"])
    signing, _ = register_signing_key(owner)
    assert browser.post(reverse("portal:api-key-revoke", args=[key.pk])).status_code == 404
    assert browser.post(reverse("portal:signing-key-revoke", args=[signing.pk])).status_code == 404
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None
    assert SigningKey.objects.get(pk=signing.pk).revoked_at is None
    page = browser.get(reverse("portal:api-keys")).content.decode()
    assert "theirs" not in page
    assert signing.fingerprint not in browser.get(reverse("portal:signing-keys")).content.decode()


def test_the_dashboard_shows_only_my_apps(browser, app, foreign):
    html = browser.get(reverse("portal:dashboard")).content.decode()
    assert app.package_id in html
    assert "com.other.secret" not in html


@pytest.mark.parametrize(
    ("method", "name", "needs"),
    [
        ("GET", "portal:dashboard", ""),
        ("GET", "portal:app-new", ""),
        ("POST", "portal:markdown-preview", ""),
        ("GET", "portal:api-keys", ""),
        ("GET", "portal:signing-keys", ""),
        ("GET", "portal:webhooks", ""),
        ("POST", "portal:webhooks", ""),
        ("GET", "portal:app-crash", "crash"),
        *[(method, name, "webhook") for method, name in WEBHOOK_PAGES],
        *[(method, name, "app") for method, name in APP_PAGES],
        *[(method, name, "version") for method, name in VERSION_PAGES],
    ],
)
def test_every_portal_page_asks_to_sign_in_first(client, app, method, name, needs):
    version = make_version(app)
    webhook, _ = webhook_create(owner=app.owner, url="https://hooks.example.com/mine", events=["crash.new"])
    args = {
        "": [],
        "app": [app.pk],
        "version": [app.pk, version.pk],
        "crash": [app.pk, uuid.uuid4()],
        "webhook": [webhook.pk],
    }[needs]
    url = reverse(name, args=args)
    response = _call(client, method, url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_actions_refuse_get(browser, app):
    version = make_version(app)
    for name in ("portal:version-submit", "portal:version-publish", "portal:version-delete"):
        assert browser.get(reverse(name, args=[app.pk, version.pk])).status_code == 405
    assert browser.get(reverse("portal:app-status", args=[app.pk])).status_code == 405


def test_forms_carry_a_csrf_token_and_posts_without_it_are_refused(user, app):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    page = strict.get(reverse("portal:app-edit", args=[app.pk])).content.decode()
    assert 'name="csrfmiddlewaretoken"' in page
    response = strict.post(reverse("portal:app-edit", args=[app.pk]), {"name": "No token"})
    assert response.status_code == 403
    app.refresh_from_db()
    assert app.name == "Portal App"


def test_webhook_forms_carry_a_csrf_token_and_posts_without_it_are_refused(user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    webhook, _ = webhook_create(owner=user, url="https://hooks.example.com/mine", events=["crash.new"])
    assert 'name="csrfmiddlewaretoken"' in strict.get(reverse("portal:webhooks")).content.decode()
    detail = strict.get(reverse("portal:webhook", args=[webhook.pk])).content.decode()
    assert detail.count('name="csrfmiddlewaretoken"') >= 3  # ping, delete and the sign-out form
    body = {"url": "https://hooks.example.com/new", "events": ["crash.new"]}
    assert strict.post(reverse("portal:webhooks"), body).status_code == 403
    assert strict.post(reverse("portal:webhook-ping", args=[webhook.pk])).status_code == 403
    assert strict.post(reverse("portal:webhook-delete", args=[webhook.pk])).status_code == 403
    assert list(Webhook.objects.filter(owner=user)) == [webhook]
    assert not WebhookDelivery.objects.exists()
