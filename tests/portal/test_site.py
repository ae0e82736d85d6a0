"""What every page shares: the site's name from SITE_NAME (titles, allauth's emails), sign-in that lands on
the dashboard, provider buttons only when configured, a Content-Security-Policy that the pages keep (no inline
script, style or handler anywhere), and Swagger UI served from this server."""

import re

import pytest
from django.contrib.sites.models import Site
from django.contrib.staticfiles import finders
from django.core import mail
from django.test import Client
from django.urls import reverse

from apps.webhooks.services import webhook_create, webhook_ping
from portal.services import site_sync
from telemetry.services import crash_report_submit
from tests.portal.conftest import make_app, make_version
from versions.constants import VersionStatus

pytestmark = pytest.mark.django_db


def test_the_site_row_names_the_store_after_migrate(settings):
    site = Site.objects.get(pk=settings.SITE_ID)
    assert site.name == settings.SITE_NAME == "Mosis Store"
    assert site.domain != "example.com"


def test_site_sync_follows_the_settings(settings):
    settings.SITE_NAME = "Acme Apps"
    settings.SITE_URL = "https://apps.acme.test:8443"
    site = site_sync()
    assert (site.name, site.domain) == ("Acme Apps", "apps.acme.test:8443")
    settings.SITE_URL = ""
    settings.ALLOWED_HOSTS = ["*", ".acme.test", "127.0.0.1", "store.acme.test"]
    assert site_sync().domain == "store.acme.test"
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    settings.DEFAULT_SITE_URL = "http://127.0.0.1:8000"  # the setting's default (tests use the client's host)
    assert site_sync().domain == "127.0.0.1:8000"  # the embedded server
    Site.objects.all().delete()
    assert site_sync().name == "Acme Apps"


def test_sign_up_email_and_page_titles_name_the_store(client, settings):
    settings.SITE_NAME = "Acme Apps"
    site_sync()
    page = client.get(reverse("account_signup"))
    assert "<title>" in page.content.decode()
    assert "Acme Apps</title>" in page.content.decode()
    response = client.post(
        reverse("account_signup"),
        {"email": "new@example.com", "password1": "a-long-passphrase", "password2": "a-long-passphrase"},
    )
    assert response.status_code == 302
    assert mail.outbox, "a verification email is sent"
    message = mail.outbox[-1]
    assert message.subject.startswith("[Acme Apps]")
    assert "example.com" not in message.subject
    assert "Acme Apps" in message.body or "testserver" in message.body


def test_signing_in_lands_on_the_dashboard(user):
    client = Client()
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:dashboard")


def test_provider_buttons_appear_only_when_configured(client, settings):
    page = client.get(reverse("account_login")).content.decode()
    assert "Continue with GitHub" not in page
    assert "Continue with Google" not in page
    settings.SOCIALACCOUNT_PROVIDERS = {
        **settings.SOCIALACCOUNT_PROVIDERS,
        "github": {**settings.SOCIALACCOUNT_PROVIDERS["github"], "APP": {"client_id": "abc", "secret": "s"}},
    }
    page = client.get(reverse("account_login")).content.decode()
    assert "Continue with GitHub" in page
    assert 'action="/accounts/github/login/' in page
    assert "Continue with Google" not in page


# A <script type="application/json"> is a data block the browser never runs (allauth passes settings so).
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+=", re.I)


def _pages(user):
    app = make_app(user)
    version = make_version(
        app, status=VersionStatus.REJECTED, validation_report={"errors": [], "warnings": []}
    )
    crash = crash_report_submit(
        app_id=app.pk, app_version="1.0.0", crash_type="E", stack_trace="at x", context={"a": 1}, owner=user
    )
    webhook, _ = webhook_create(owner=user, url="https://hooks.example.com/csp", events=["crash.new"])
    webhook_ping(webhook=webhook, actor=user)
    return [
        reverse("store-home"),
        reverse("portal:dashboard"),
        reverse("portal:app", args=[app.pk]),
        reverse("portal:app-edit", args=[app.pk]),
        reverse("portal:version-new", args=[app.pk]),
        reverse("portal:version", args=[app.pk, version.pk]),
        reverse("portal:api-keys"),
        reverse("portal:signing-keys"),
        reverse("portal:app-analytics", args=[app.pk]),
        reverse("portal:app-analytics", args=[app.pk]) + "?start_date=2026-05-02&end_date=2026-05-01",
        reverse("portal:app-crashes", args=[app.pk]),
        reverse("portal:app-crash", args=[app.pk, crash.group_id]),
        reverse("portal:webhooks"),
        reverse("portal:webhook", args=[webhook.pk]),
        reverse("portal:guide"),
        reverse("account_email"),
        reverse("swagger-ui"),
    ]


def test_every_page_sends_a_strict_csp_and_keeps_to_it(browser, user):
    for url in [*_pages(user), "/no-such-page/"]:
        response = browser.get(url)
        policy = response["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["script-src"] == "'self'", url
        assert directives["style-src"] == "'self'", url
        assert directives["frame-ancestors"] == "'none'", url
        assert "unsafe" not in policy, url
        body = response.content.decode()
        assert not INLINE_SCRIPT.search(body), url
        assert not INLINE_STYLE.search(body), url
        assert not INLINE_HANDLER.search(body), url
        assert "{#" not in body and "{%" not in body, url  # a template comment or tag that did not parse


def test_sign_in_pages_keep_the_csp_too(client):
    for url in (reverse("account_login"), reverse("account_signup"), reverse("account_reset_password")):
        body = client.get(url).content.decode()
        assert not INLINE_SCRIPT.search(body) and not INLINE_STYLE.search(body), url


def test_the_csp_lets_the_browser_upload_to_s3(monkeypatch):
    from mosis.settings import base

    monkeypatch.setattr(base, "STORAGE_BACKEND", "local")
    assert base.csp_upload_origins() == []  # local storage: uploads go to this server ('self')
    monkeypatch.setattr(base, "STORAGE_BACKEND", "s3")
    monkeypatch.setattr(base, "AWS_S3_ENDPOINT_URL", "http://127.0.0.1:9000/")
    assert base.csp_upload_origins() == ["http://127.0.0.1:9000", "http://*.127.0.0.1:9000"]
    monkeypatch.setattr(base, "AWS_S3_ENDPOINT_URL", None)
    assert base.csp_upload_origins() == ["https://*.amazonaws.com"]


def test_api_docs_work_offline_from_local_assets(client):
    page = client.get(reverse("swagger-ui"))
    assert page.status_code == 200
    body = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', body)
    assert sources
    assert all(src.startswith("/") for src in sources), sources  # nothing from another host
    for asset in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert f"/static/drf_spectacular_sidecar/swagger-ui-dist/{asset}" in body
        assert finders.find(f"drf_spectacular_sidecar/swagger-ui-dist/{asset}")
    script = client.get(reverse("swagger-ui") + "?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/v1/openapi.json" in script.content.decode()
