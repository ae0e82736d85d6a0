"""Shared by the portal and store browser tests: Debian's chromium through Playwright (never a downloaded
browser), a page that records console errors and CSP violations, screenshots under var/screenshots/."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
PASSWORD = "correct-horse-battery"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)"
)


class Browser:
    """One page with what it logged: JS errors and Content-Security-Policy violations fail the test."""

    def __init__(self, context, base_url: str):
        self.context = context
        self.base_url = base_url
        self.page = context.new_page()
        self.page.set_default_timeout(15_000)
        self.problems: list[str] = []
        self.expected: set[tuple[int, str]] = set()
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("console", self._console)
        self.page.on("response", self._response)
        self.page.on("dialog", lambda dialog: dialog.accept())

    def _console(self, message):
        # A failed load is reported by _response with its URL; anything else logged as an error counts.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console error: {message.text}")

    def _response(self, response):
        if response.status < 400 or response.url.endswith("/favicon.ico"):
            return
        if (response.status, response.url.split("?")[0].removeprefix(self.base_url)) in self.expected:
            return
        self.problems.append(f"{response.status} {response.request.method} {response.url}")

    def expect(self, status: int, path: str) -> None:
        """A refusal the test provokes on purpose (a form sent with bad input answers 400)."""
        self.expected.add((status, path))

    def go(self, path: str):
        self.page.goto(self.base_url + path)
        return self.page

    def shot(self, name: str, *, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def phone(self):
        self.page.set_viewport_size(PHONE)

    def desktop(self):
        self.page.set_viewport_size(DESKTOP)

    def no_horizontal_overflow(self) -> None:
        """Nothing wider than the viewport: the page never scrolls sideways (tables scroll in their box)."""
        wide = self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert wide <= 1, f"{self.page.url} overflows the viewport by {wide}px"

    def sign_in(self, email: str, password: str = PASSWORD):
        self.go("/accounts/login/")
        self.page.fill("#id_login", email)
        self.page.fill("#id_password", password)
        self.page.click("form.form button[type=submit]")
        self.page.wait_for_url(re.compile(r".*/portal/$"))

    def throttle_uploads(self, bytes_per_second: int):
        """Slow the page's uploads down (Chrome's network emulation) so progress can be seen and cancelled."""
        cdp = self.context.new_cdp_session(self.page)
        cdp.send("Network.enable")
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": bytes_per_second},
        )
        return cdp

    def assert_clean(self):
        assert not self.problems, self.problems


@pytest.fixture
def browser_context(monkeypatch, live_server):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes around it are
    # plain synchronous calls, so Django's async-safety guard must not trip on them.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-quic",
                "--disable-sync",
            ],
        )
        context = chromium.new_context(viewport=DESKTOP)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
        try:
            yield context
        finally:
            chromium.close()
            # Django keeps the test's database connection per asyncio context while Playwright's loop runs:
            # close it here, or it keeps the test database from being dropped.
            connections.close_all()


@pytest.fixture
def web(browser_context, live_server) -> Browser:
    return Browser(browser_context, live_server.url)
