"""The review console driven in a real browser: Debian's chromium through Playwright (never a downloaded one).

A reviewer walks a queue of mixed submissions: the branded index with the queue's counts, the queue oldest
first with its flags, claims the oldest item, reads its file-by-file diff (a text diff loaded when opened),
approves it with a canned response, finds its history; approving an item another reviewer holds asks for a
confirmation. Another reviewer rejects a version with notes; a developer account cannot get in at all.
Screenshots of every step land in var/screenshots/review-console/.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.core import mail
from django.db import connections

from apps.models import ActivityEvent
from tests.factories import AppVersionFactory, UserFactory
from tests.versions.review_scenario import build_review_scenario
from versions.constants import VersionStatus

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)"
    ),
]
PASSWORD = "correct-horse-battery"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "review-console"


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
        page = browser.new_page(viewport={"width": 1440, "height": 900})
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
    assert "Rejected com.example.browsertest" in page.content()

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


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_reviewer_clears_the_queue_from_the_console(live_server, browser_page, tmp_path):
    scenario = build_review_scenario(tmp_path)
    page = browser_page
    base = live_server.url

    _sign_in(page, base, scenario.reviewer.email)
    # The index: branded, the queue first with its counts, the rest grouped.
    page.goto(f"{base}/admin/")
    assert "Mosis review console" in page.inner_text("#site-name")
    assert page.inner_text(".queue-total").startswith("3 versions waiting")
    sensitive = page.locator(".review-flag-count", has_text="New sensitive permissions")
    assert sensitive.locator(".flag-count").inner_text() == "1"
    groups = page.locator(".console-groups caption").all_text_contents()
    assert [g.strip() for g in groups] == [
        "Review",
        "Catalog",
        "Developers",
        "Devices and telemetry",
        "System",
    ]
    _shot(page, "01-index")

    # The queue: oldest first, with waiting times, flags and claims.
    page.click("text=Open the queue (oldest first)")
    page.wait_for_url("**/admin/versions/reviewqueueitem/")
    rows = page.locator("#result_list tbody tr")
    packages = [rows.nth(i).locator(".queue-package").inner_text() for i in range(rows.count())]
    assert packages == ["com.example.notes", "com.newcomer.timer", "com.flashy.cleaner"]
    assert "3\xa0days" in rows.nth(0).locator(".field-waiting").inner_text()
    assert "New sensitive permissions" in rows.nth(0).locator(".field-flags_col").inner_text()
    assert "Developer's first submission" in rows.nth(1).locator(".field-flags_col").inner_text()
    assert "ana@mosis.dev" in rows.nth(2).locator(".field-claim_col").inner_text()
    assert "<br>" not in rows.nth(0).locator(".field-changes_col").inner_text()
    _shot(page, "02-queue")

    # Filter by a flag.
    page.goto(f"{base}/admin/versions/reviewqueueitem/?flag=abuse_reports")
    assert page.locator("#result_list tbody tr").count() == 1
    _shot(page, "03-queue-filtered-abuse")

    # Open the oldest item and claim it.
    page.goto(f"{base}/admin/versions/reviewqueueitem/")
    page.locator("#result_list a", has_text="com.example.notes").first.click()
    page.click("button:has-text('Claim it')")
    assert "You hold this version until" in page.inner_text("#claim")

    # The diff: the manifest first, then the files; a text diff loads when opened.
    manifest_rows = page.locator(".manifest-diff tbody tr th").all_inner_texts()
    assert manifest_rows[:2] == ["dependencies", "permissions"]
    files = page.locator(".diff-file summary .diff-path").all_inner_texts()
    assert files[0] == "manifest.json"
    assert set(files) >= {"src/main.js", "src/attach.js", "docs/old-guide.txt", "assets/splash.bin"}
    main_js = page.locator("details.diff-file", has=page.locator(".diff-path", has_text="src/main.js"))
    main_js.locator("summary").click()
    main_js.locator("pre.diff .diff-add", has_text="camera.capture()").wait_for()
    binary = page.locator("details.diff-file", has=page.locator(".diff-path", has_text="assets/splash.bin"))
    binary.locator("summary").click()
    assert "sha256" in binary.inner_text()
    _shot(page, "04-review-page-diff")

    # Approve with a canned response, which fills the notes.
    page.select_option("#canned-response", label="Approved: thank you")
    notes = page.input_value("#id_notes")
    assert notes.startswith("Thank you for your submission.")
    page.fill("#id_notes", notes + "\nThe camera is only used for attachments.")
    _shot(page, "05-decision-with-canned-response")
    page.click("button[name=decision][value=approve]")
    page.wait_for_url("**/admin/versions/reviewqueueitem/")
    assert "Approved com.example.notes 1.1.0." in page.inner_text(".messagelist")
    assert page.locator("#result_list tbody tr").count() == 2
    _shot(page, "06-queue-after-approval")

    scenario.notes_update.refresh_from_db()
    assert scenario.notes_update.status == VersionStatus.APPROVED
    assert scenario.notes_update.review_notes.endswith("only used for attachments.")
    decision_mail = [m for m in mail.outbox if "1.1.0 approved" in m.subject][0]
    assert "> The camera is only used for attachments." in decision_mail.body
    assert f"/portal/apps/{scenario.notes_update.app_id}/versions/{scenario.notes_update.pk}/" in (
        decision_mail.body
    )

    # Approving the item another reviewer holds asks for a confirmation first.
    page.goto(f"{base}/admin/versions/reviewqueueitem/{scenario.reported.pk}/change/")
    assert "ana@mosis.dev holds this version" in page.inner_text("#claim")
    page.fill("#id_notes", "Ads are disclosed in the listing now.")
    page.click("button[name=decision][value=approve]")
    assert "ana@mosis.dev has claimed this version" in page.inner_text(".claim-confirm")
    _shot(page, "07-claim-confirmation")
    page.click("#confirm-decision")
    page.wait_for_url("**/admin/versions/reviewqueueitem/")
    scenario.reported.refresh_from_db()
    assert scenario.reported.status == VersionStatus.APPROVED

    # The app's History (the admin's own History button) tells what happened, in words.
    page.goto(f"{base}/admin/apps/app/{scenario.notes_update.app_id}/change/")
    page.click("a.historylink")
    history = page.inner_text("#activity-history")
    assert "1.1.0 (code 2): status: review → approved by reviewer@mosis.dev" in history
    assert "{" not in history  # readable sentences, not raw dicts
    _shot(page, "08-app-history")
    assert ActivityEvent.objects.filter(version=scenario.notes_update, type="version.approved").exists()

    # The rest of the console: the app page (inlines in words), a version (view-only), the activity log,
    # a decided version's review page, the canned responses.
    page.goto(f"{base}/admin/apps/app/{scenario.notes_update.app_id}/change/")
    assert "1.1.0 (code 2): status: review → approved" in page.inner_text("body")
    _shot(page, "09-app-page")
    page.goto(f"{base}/admin/versions/appversion/{scenario.notes_update.pk}/change/")
    assert page.locator("input[name=_save]").count() == 0
    assert "com.example.notes 1.1.0 (2)" in page.inner_text("#content h2")
    _shot(page, "10-version-view-only")
    page.goto(f"{base}/admin/apps/activityevent/")
    assert "{" not in page.inner_text("#result_list")
    _shot(page, "11-activity-log")
    page.goto(f"{base}/admin/versions/reviewqueueitem/{scenario.notes_update.pk}/change/")
    assert "there is nothing to decide" in page.inner_text("#decision")
    _shot(page, "12-decided-version")
    page.goto(f"{base}/admin/versions/cannedresponse/")
    _shot(page, "13-canned-responses")
