"""The sign-in lockout seen in a real browser (Debian's chromium through Playwright): after the limit, the
browser sign-in and the admin login show the "Too many sign-in attempts" page, even for the right password."""

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connections

from tests.factories import UserFactory

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
pytestmark = [
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)"
    ),
]
PASSWORD = "correct-horse-battery"


@pytest.fixture
def browser_page(monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the ORM calls around Playwright's loop
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        page = browser.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            browser.close()
            connections.close_all()


@pytest.fixture
def small_lockout(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    settings.ACCOUNT_RATE_LIMITS = False  # allauth's own per-minute limit would answer first
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)


@pytest.mark.django_db(transaction=True)
def test_browser_sign_in_shows_the_lockout_page(live_server, browser_page, small_lockout):
    user = UserFactory(password=PASSWORD)
    page = browser_page
    for _ in range(3):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=login]", user.email)
        page.fill("input[name=password]", "wrong-password")
        page.click("button[type=submit]")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    response_holder = []
    page.on(
        "response", lambda r: response_holder.append(r.status) if r.url.endswith("/accounts/login/") else None
    )
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("h1", has_text="Too many sign-in attempts").is_visible()
    assert "15 minutes" in page.content()
    assert 429 in response_holder
    page.screenshot(path=str(SCREENSHOTS / "sign-in-locked-out.png"), full_page=True)
    from django.contrib.sessions.models import Session

    signed_in = [s.get_decoded().get("_auth_user_id") for s in Session.objects.all()]
    assert str(user.pk) not in signed_in


@pytest.mark.django_db(transaction=True)
def test_admin_login_shows_the_lockout_page(live_server, browser_page, small_lockout):
    staff = UserFactory(is_staff=True, is_superuser=True, password=PASSWORD)
    page = browser_page
    for password in ("wrong-1", "wrong-2", "wrong-3", PASSWORD):
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("input[name=username]", staff.email)
        page.fill("input[name=password]", password)
        page.click("input[type=submit], button[type=submit]")
    assert page.locator("h1", has_text="Too many sign-in attempts").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "admin-login-locked-out.png"), full_page=True)
    page.goto(f"{live_server.url}/admin/")
    assert "/admin/login/" in page.url  # not signed in
