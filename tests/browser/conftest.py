"""Fixtures of the portal and store browser tests (tests/browser/portal_helpers.py)."""

from tests.browser.portal_helpers import browser_context, web  # noqa: F401
