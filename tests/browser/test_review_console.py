"""The review console driven in a real browser: Debian's chromium through Playwright (never a downloaded one).

A reviewer signs in to the admin, finds the version in the review queue, reads it and rejects it with notes;
a developer account cannot get into the console at all.
"""

import os
import shutil

import pytest
from django.db import connections

from tests.factories import AppVersionFactory, UserFactory
from versions.constants import VersionStatus

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)"
    ),
]
PASSWORD = "correct-horse-battery"


@pytest.fixture
def browser_page(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes around it are
    # plain synchronous calls, so Django's async-safety guard must not trip on them.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            browser.close()
            # With Playwright's event loop running in this thread, Django keeps the test's database
            # connection per asyncio context (asgiref's Local), apart from the one the test database's
            # teardown closes: close it here, or it keeps the database from being dropped at the end.
            connections.close_all()


def _sign_in(page, base_url, email):
    page.goto(f"{base_url}/admin/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit], button[type=submit]")


@pytest.mark.django_db(transaction=True)
def test_reviewer_rejects_a_version_with_notes_in_the_browser(live_server, browser_page, mailoutbox):
    reviewer = UserFactory(is_staff=True, is_superuser=True)
    version = AppVersionFactory(
        status=VersionStatus.REVIEW,
        app__package_id="com.example.browsertest",
        permissions=["network", "camera"],
    )
    page = browser_page

    _sign_in(page, live_server.url, reviewer.email)
    page.goto(f"{live_server.url}/admin/versions/reviewqueueitem/")
    assert page.locator("text=com.example.browsertest").first.is_visible()

    page.locator("a", has_text="com.example.browsertest").first.click()
    assert "Review com.example.browsertest" in page.content()
    page.fill("textarea[name=notes]", "The camera permission is not explained in the description.")
    page.click("button[name=decision][value=reject]")
    page.wait_for_url("**/admin/versions/reviewqueueitem/")
    assert "rejected" in page.content()

    version.refresh_from_db()
    assert version.status == VersionStatus.REJECTED
    assert version.review_notes == "The camera permission is not explained in the description."
    assert version.reviewed_by_id == reviewer.pk
    assert any("com.example.browsertest" in m.subject or "rejected" in m.subject.lower() for m in mailoutbox)


@pytest.mark.django_db(transaction=True)
def test_a_developer_cannot_get_into_the_review_console(live_server, browser_page):
    developer = UserFactory()
    page = browser_page

    _sign_in(page, live_server.url, developer.email)
    assert "/admin/login/" in page.url  # the admin refuses non-staff accounts at sign-in
    page.goto(f"{live_server.url}/admin/versions/reviewqueueitem/")
    assert "/admin/login/" in page.url
