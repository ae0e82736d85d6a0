"""The developer portal in a real browser (Debian's chromium through Playwright) against a live server.

A newcomer signs up, confirms their email, creates an app, uploads a version with a progress bar, reads
the validation report, submits it; a reviewer approves it (the review service, as the admin calls it); the
developer publishes it and finds it in the store. Also: keys created and revoked, an upload cancelled, and a
failing package whose report the page shows by itself when validation ends; an app's analytics charts, crash
groups and a webhook added, pinged and deleted. Each step is screenshotted
under var/screenshots/ at desktop and phone width.
"""

from __future__ import annotations

import os
import re

import pytest
from django.core import mail

from accounts.models import SigningKey
from apps.models import App
from mosis_package import ISSUE_FIXES
from tests.apps.webhook_receivers import receiver, receiver_factory  # noqa: F401 - fixtures
from tests.browser.portal_helpers import DESKTOP, PASSWORD, SCREENSHOTS, needs_chromium
from tests.factories import UserFactory, community_published_app
from tests.flows.test_version_journey_s3 import moto_endpoint, s3_storage  # noqa: F401 - fixtures
from tests.portal.conftest import make_app, telemetry_history
from tests.versions.pipeline import manifest_for, write_package
from versions.constants import VersionStatus
from versions.models import AppVersion
from versions.services import version_review, version_validate

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]

DESCRIPTION = "# Field Notes\n\nCapture ideas **offline** and sync them later.\n\n- Tags\n- Search"


def bulky_package(tmp_path, app, *, size=3 * 1024 * 1024, **manifest) -> str:
    """A real package big enough for a throttled upload to show its progress (incompressible data)."""
    return write_package(tmp_path, manifest_for(app, **manifest), files={"assets/data.bin": os.urandom(size)})


def test_a_newcomer_goes_from_sign_up_to_a_published_version(web, tmp_path, settings, mailoutbox):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    settings.RATE_LIMITS_ENABLED = False
    page = web.page

    # Sign up; the store asks to confirm the address before the first sign-in.
    web.go("/accounts/signup/")
    page.fill("#id_email", "newcomer@example.com")
    page.fill("#id_password1", "a long pass phrase")
    page.fill("#id_password2", "a long pass phrase")
    web.shot("journey-01-sign-up")
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r".*/accounts/confirm-email/$"))
    assert "Verify" in page.content()
    web.shot("journey-02-verify-your-email")

    message = mail.outbox[-1]
    assert message.subject.startswith("[Mosis Store]")
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body).group(0)
    page.goto(link)
    web.shot("journey-03-confirm-email")
    page.click("form.form button[type=submit]")
    if "/accounts/login/" in page.url:
        web.sign_in("newcomer@example.com", "a long pass phrase")
    page.wait_for_url(re.compile(r".*/portal/$"))

    # An empty dashboard says what to do first.
    assert page.get_by_role("heading", name="Publish your first app").is_visible()
    web.shot("journey-04-empty-dashboard")
    web.phone()
    web.shot("journey-04-empty-dashboard-phone")
    web.no_horizontal_overflow()
    web.desktop()

    # Create the app; the long description is previewed as the store will show it.
    page.get_by_role("link", name="Create your first app").click()
    page.fill("#id_package_id", "com.newcomer.notes")
    page.fill("#id_name", "Field Notes")
    page.fill("#id_description", "Notes that work offline.")
    page.fill("#id_tags", "notes, offline")
    page.fill("#id_long_description", DESCRIPTION)
    page.wait_for_selector("#long-description-preview h3")
    assert page.inner_text("#long-description-preview strong") == "offline"
    web.shot("journey-05-new-app-with-preview")
    page.get_by_role("button", name="Create app").click()
    page.wait_for_url(re.compile(r".*/portal/apps/[0-9a-f-]+/$"))
    app = App.objects.get(package_id="com.newcomer.notes")
    assert "was created as a draft" in page.content()
    web.shot("journey-06-app-page")

    # The store takes signed packages only: register the public half of a signing key first.
    from mosis_package import generate_signing_key, sign_file

    private_key, public_pem = generate_signing_key("ed25519")
    page.get_by_role("link", name="Signing keys").first.click()
    page.fill("#id_name", "laptop")
    page.fill("#id_public_key", public_pem)
    page.get_by_role("button", name="Add key").click()
    page.wait_for_selector("text=Fingerprint:")
    web.shot("journey-06b-signing-key-added")
    web.go(f"/portal/apps/{app.pk}/")

    # Upload the first version from the browser, straight to storage, watching the progress bar; the
    # signature was made on the developer's machine (`mosis sign`) and pasted.
    package = bulky_package(tmp_path, app, permissions=["network", "camera"])
    page.get_by_role("link", name="New version").first.click()
    assert page.input_value("#id_version_code") == "1"
    page.fill("#id_version_name", "1.0.0")
    page.fill("#id_release_notes", "First release.")
    page.select_option(
        "#id_signing_key_id", value=str(SigningKey.objects.get(user__email="newcomer@example.com").pk)
    )
    page.fill("#id_signature", sign_file(package, private_key))
    page.set_input_files("#package-file", package)
    web.throttle_uploads(1024 * 1024)
    page.get_by_role("button", name="Create version and upload").click()
    page.wait_for_function(
        "() => { const p = document.querySelector('#upload-progress-bar'); return p && p.value > 5 && p.value < 95; }"
    )
    status = page.inner_text("[data-upload-status]")
    assert re.search(r"B of 3\.0 MB \(\d+%\)", status), status
    web.shot("journey-07-upload-in-progress", full_page=False)
    page.wait_for_url(re.compile(r".*/versions/[0-9a-f-]+/$"), timeout=60_000)
    version = AppVersion.objects.get(app=app)
    assert version.status == VersionStatus.DRAFT
    assert page.get_by_role("heading", name="Ready to submit").is_visible()
    assert "No errors" in page.content()
    assert "SENSITIVE_PERMISSION" in page.content()
    web.shot("journey-08-validated-version")
    web.phone()
    web.shot("journey-08-validated-version-phone")
    web.no_horizontal_overflow()
    web.desktop()

    page.get_by_role("button", name="Submit for review").click()
    page.wait_for_selector("text=was submitted for review")
    web.shot("journey-09-submitted")

    # A reviewer approves it (the service the admin's review page calls).
    version_review(
        version=version, reviewer=UserFactory(is_staff=True), decision="approve", notes="Clear and useful."
    )
    web.go("/portal/")
    assert "Publish 1.0.0" in page.content()
    web.shot("journey-10-dashboard-approved")
    page.get_by_role("link", name="Publish 1.0.0").click()
    assert "Clear and useful." in page.content()
    page.get_by_role("button", name="Publish").click()
    page.wait_for_selector("text=is published")
    web.shot("journey-11-published")

    # The app page in the store, then search finds it.
    page.get_by_role("link", name="View in the store").click()
    page.wait_for_url(re.compile(r".*/apps/com\.newcomer\.notes/$"))
    assert page.inner_text(".app-hero h1") == "Field Notes"
    assert page.locator("h1").count() == 1  # the description's headings sit under the page's
    assert page.inner_text(".prose h3") == "Field Notes"
    page.wait_for_function(  # the packaged icon loads, from the host the page is served on
        "() => { const img = document.querySelector('.app-hero img.icon'); return img.complete && img.naturalWidth > 0; }"
    )
    web.shot("journey-12-store-app-page")
    web.phone()
    web.shot("journey-12-store-app-page-phone")
    web.no_horizontal_overflow()
    web.desktop()
    web.go("/")
    page.fill("#store-q", "field")
    page.get_by_role("button", name="Search").click()
    page.wait_for_selector('[data-package-id="com.newcomer.notes"]')
    web.shot("journey-13-store-search")
    web.assert_clean()


def test_keys_are_created_shown_once_copied_and_revoked(web, user, settings):
    settings.RATE_LIMITS_ENABLED = False
    page = web.page
    web.sign_in(user.email)
    page.get_by_role("link", name="API keys").click()
    page.fill("#id_name", "CI release job")
    page.get_by_label("Upload new versions").check()
    page.get_by_label("Publish versions").check()
    page.get_by_role("button", name="Create key").click()
    secret = page.input_value("#new-secret")
    assert secret.startswith("mk_live_")
    page.get_by_role("button", name="Copy").click()
    page.wait_for_selector("text=Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    web.shot("keys-01-created-secret-once")
    web.phone()
    web.shot("keys-01-created-secret-once-phone")
    web.no_horizontal_overflow()
    web.desktop()
    web.go("/portal/keys/")  # a later visit: the prefix only
    assert secret not in page.content()
    assert secret[:12] in page.content()
    page.get_by_role("button", name="Revoke CI release job").click()
    page.wait_for_selector("text=was revoked")
    assert "No active keys." in page.content()
    web.shot("keys-02-revoked")

    from mosis_package import generate_signing_key

    _, pem = generate_signing_key("ecdsa-p256")
    page.get_by_role("link", name="Signing keys").click()
    page.fill("#id_name", "release 2026")
    page.fill("#id_public_key", "-----BEGIN PUBLIC KEY-----\nnot really\n-----END PUBLIC KEY-----")
    web.expect(400, "/portal/signing-keys/")
    page.get_by_role("button", name="Add key").click()
    assert page.locator("#id_public_key_errors li").count() >= 1
    web.shot("signing-01-bad-pem")
    page.fill("#id_public_key", pem)
    page.get_by_role("button", name="Add key").click()
    page.wait_for_selector("text=Fingerprint:")
    web.shot("signing-02-added")
    page.get_by_role("button", name="Revoke release 2026").click()
    page.wait_for_selector("text=stay verifiable")
    web.shot("signing-03-revoked")
    web.assert_clean()


def test_a_failing_package_shows_its_report_with_fixes_when_validation_ends(web, user, tmp_path, settings):
    settings.RATE_LIMITS_ENABLED = False
    settings.REQUIRE_SIGNATURE = False  # signing in the browser is the newcomer journey's
    app = make_app(user, package_id="com.example.broken", name="Broken")
    page = web.page
    web.sign_in(user.email)

    # Upload a package whose manifest disagrees with the version and asks for an unknown permission.
    web.go(f"/portal/apps/{app.pk}/versions/new/")
    page.fill("#id_version_name", "1.0.0")
    page.set_input_files(
        "#package-file",
        write_package(tmp_path, manifest_for(app, version_code=7, permissions=["network", "teleport"])),
    )
    page.get_by_role("button", name="Create version and upload").click()
    page.wait_for_url(re.compile(r".*/versions/[0-9a-f-]+/$"))
    assert page.get_by_role("heading", name="Rejected").is_visible()
    issues = page.locator("ol.issues li")
    assert issues.count() == 2
    assert "VERSION_CODE_MISMATCH" in issues.nth(0).inner_text()
    assert "How to fix: Set version_code in manifest.json" in issues.nth(0).inner_text()
    assert "UNKNOWN_PERMISSION" in issues.nth(1).inner_text()
    web.shot("failure-01-report-with-fixes")
    web.phone()
    web.shot("failure-01-report-with-fixes-phone")
    web.no_horizontal_overflow()
    web.desktop()

    # A second version is validated while its page is open: the page follows and shows the result itself.
    path = write_package(
        tmp_path,
        manifest_for(app, version_code=2, version_name="1.0.1", icon="missing.png"),
        name="b.mpk",
        icon=None,
    )
    page.get_by_role("link", name="Broken").first.click()
    page.get_by_role("link", name="New version").first.click()
    page.fill("#id_version_name", "1.0.1")  # a version name is never reused, even a rejected one's
    page.fill("#id_version_code", "2")
    page.set_input_files("#package-file", path)
    # No worker picks the validation up yet (tasks are queued, not run): the page shows "validating".
    from mosis.celery import app as celery_app

    celery_app.conf.update(task_always_eager=False)
    try:
        page.get_by_role("button", name="Create version and upload").click()
        page.wait_for_selector(".poll .spinner")
        web.shot("failure-02-validating")
    finally:
        celery_app.conf.update(task_always_eager=True)
    version = AppVersion.objects.get(app=app, version_code=2)
    assert version.status == VersionStatus.VALIDATING
    version_validate(version_id=version.pk)  # what the worker runs
    page.wait_for_selector("text=ICON_MISSING", timeout=20_000)
    assert f"How to fix: {ISSUE_FIXES['ICON_MISSING']}" in page.inner_text("ol.issues")
    web.shot("failure-03-report-arrived")
    web.assert_clean()


def test_an_upload_can_be_cancelled_and_resumed_later(web, user, tmp_path, settings):
    settings.RATE_LIMITS_ENABLED = False
    settings.REQUIRE_SIGNATURE = False  # signing in the browser is the newcomer journey's
    app = make_app(user, package_id="com.example.cancel", name="Cancel Me")
    page = web.page
    web.sign_in(user.email)
    web.go(f"/portal/apps/{app.pk}/versions/new/")
    # Mistakes are shown next to their field, and the focus goes there.
    page.get_by_role("button", name="Create version and upload").click()
    assert page.inner_text("#package-file_errors") == "Choose the package file (.mpk) to upload."
    assert page.evaluate("document.activeElement.id") == "package-file"
    package = bulky_package(tmp_path, app)
    page.set_input_files("#package-file", package)
    page.fill("#id_version_name", "one")
    web.expect(400, f"/portal/apps/{app.pk}/versions/new/")
    page.get_by_role("button", name="Create version and upload").click()
    page.wait_for_selector("#id_version_name_errors li")
    assert page.inner_text("#id_version_name_errors") == "Must be a semantic version such as 1.4.0."
    assert page.evaluate("document.activeElement.id") == "id_version_name"
    assert page.locator(".form-errors").is_hidden()
    web.shot("cancel-00-field-errors")
    page.fill("#id_version_name", "1.0.0")
    page.set_input_files("#package-file", package)
    cdp = web.throttle_uploads(256 * 1024)
    page.get_by_role("button", name="Create version and upload").click()
    page.wait_for_function("() => document.querySelector('#upload-progress-bar').value > 2")
    page.get_by_role("button", name="Cancel upload").click()
    page.wait_for_selector("text=Upload cancelled")
    web.shot("cancel-01-cancelled")
    version = AppVersion.objects.get(app=app)
    assert version.status == VersionStatus.UPLOADING

    # Trying again from the same form uploads to that version (no second version is created) ...
    page.get_by_role("button", name="Upload again").click()
    page.wait_for_function("() => document.querySelector('#upload-progress-bar').value > 2")
    page.get_by_role("button", name="Cancel upload").click()
    page.wait_for_selector("text=Upload cancelled")
    assert AppVersion.objects.filter(app=app).count() == 1

    # ... and later, from the version's page: a fresh URL, the whole file, validation.
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    page.get_by_role("link", name="Upload it later from the version's page").click()
    assert page.get_by_role("heading", name="Upload the package").is_visible()
    web.shot("cancel-02-resume-page")
    page.set_input_files("#package-file", package)
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_selector("text=Ready to submit", timeout=60_000)
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT
    web.assert_clean()


def test_the_dashboard_at_phone_width(web, user):
    for i, status in enumerate(
        [VersionStatus.DRAFT, VersionStatus.REVIEW, VersionStatus.REJECTED, VersionStatus.APPROVED]
    ):
        app = make_app(user, package_id=f"com.example.phone{i}", name=f"Phone App {i}")
        AppVersion.objects.create(
            app=app,
            version_name="1.0.0",
            version_code=1,
            status=status,
            validation_report={"ok": False, "errors": [{"code": "ICON_MISSING"}], "warnings": []}
            if status == VersionStatus.REJECTED
            else None,
        )
    web.sign_in(user.email)
    web.shot("dashboard-01-desktop")
    web.phone()
    web.page.reload()
    web.shot("dashboard-02-phone")
    web.no_horizontal_overflow()
    # Keyboard: the skip link is the first stop and moves focus to the content.
    web.page.keyboard.press("Tab")
    assert web.page.evaluate("document.activeElement.textContent") == "Skip to content"
    web.page.keyboard.press("Enter")
    assert web.page.evaluate("document.activeElement.id") == "main"
    web.assert_clean()


def test_sign_in_offers_the_configured_providers_and_lands_on_the_dashboard(web, user, settings):
    providers = dict(settings.SOCIALACCOUNT_PROVIDERS)
    for name in ("github", "google"):
        providers[name] = {**providers[name], "APP": {"client_id": f"{name}-client", "secret": "s"}}
    settings.SOCIALACCOUNT_PROVIDERS = providers
    page = web.page
    web.go("/portal/keys/")  # signed out: sent to sign in first, and back afterwards
    page.wait_for_url(re.compile(r".*/accounts/login/\?next=/portal/keys/$"))
    assert page.get_by_role("button", name="Continue with GitHub").is_visible()
    assert page.get_by_role("button", name="Continue with Google").is_visible()
    web.shot("sign-in-01-with-providers")
    web.phone()
    web.shot("sign-in-01-with-providers-phone")
    web.no_horizontal_overflow()
    web.desktop()
    page.fill("#id_login", user.email)
    page.fill("#id_password", "wrong password")
    page.click("form.form button[type=submit]")
    assert page.locator(".form-errors").is_visible()
    web.shot("sign-in-02-wrong-password")
    page.fill("#id_password", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r".*/portal/keys/$"))
    web.go("/accounts/email/")
    web.shot("account-01-email-addresses")
    web.assert_clean()


@pytest.mark.network
def test_the_browser_uploads_straight_to_s3_through_the_presigned_put(
    web,
    user,
    tmp_path,
    settings,
    s3_storage,  # noqa: F811 - the fixture imported above
):
    """STORAGE=s3 (moto's S3 server on another port): the page PUTs the file cross-origin to the presigned
    URL — allowed by the bucket's CORS and the page's CSP — and the store validates the object it finds."""
    settings.REQUIRE_SIGNATURE = False  # signing in the browser is the newcomer journey's
    from tests.flows.test_version_journey_s3 import BUCKET

    endpoint = s3_storage.meta.endpoint_url
    s3_storage.put_bucket_cors(
        Bucket=BUCKET,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": [web.base_url],
                    "AllowedMethods": ["PUT"],
                    "AllowedHeaders": ["Content-Type"],
                }
            ]
        },
    )
    policy = settings.CONTENT_SECURITY_POLICY
    settings.CONTENT_SECURITY_POLICY = {
        **policy,
        "DIRECTIVES": {**policy["DIRECTIVES"], "connect-src": ["'self'", endpoint]},
    }
    settings.RATE_LIMITS_ENABLED = False
    app = make_app(user, package_id="com.example.cloud", name="Cloud")
    page = web.page
    web.sign_in(user.email)
    web.go(f"/portal/apps/{app.pk}/versions/new/")
    page.fill("#id_version_name", "1.0.0")
    page.set_input_files("#package-file", bulky_package(tmp_path, app, size=512 * 1024))
    puts = []
    page.on("request", lambda request: puts.append(request.url) if request.method == "PUT" else None)
    page.get_by_role("button", name="Create version and upload").click()
    page.wait_for_selector("text=Ready to submit", timeout=60_000)
    assert puts and puts[0].startswith(f"{endpoint}/{BUCKET}/packages/uploads/{app.pk}/"), puts
    version = AppVersion.objects.get(app=app)
    assert version.status == VersionStatus.DRAFT
    web.shot("s3-01-validated-after-presigned-put")
    web.assert_clean()


def test_analytics_crashes_and_webhooks(web, user, settings, receiver):  # noqa: F811 - the fixture imported above
    """An app with three weeks of telemetry: its charts (drawn on the server), a bad range refused on the
    form, its crash groups and one group's stack; then a webhook added (secret shown once, copied), pinged
    to a real receiver, and deleted."""
    settings.RATE_LIMITS_ENABLED = False
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the receiver listens on 127.0.0.1
    app = community_published_app("com.example.charted", owner=user, name="Charted")
    telemetry_history(app, days=21)
    page = web.page
    web.sign_in(user.email)

    page.get_by_role("link", name="Charted").first.click()
    page.get_by_role("link", name="Analytics").click()
    page.wait_for_url(re.compile(r".*/analytics/$"))
    charts = page.locator("svg.chart-plot[role=img]")
    assert charts.count() == 3
    assert "Downloads per day" in charts.nth(0).locator("title").first.text_content()
    assert page.locator("svg.chart-downloads rect").count() == 30
    web.shot("analytics-01-charts")
    web.phone()
    web.shot("analytics-01-charts-phone")
    web.no_horizontal_overflow()
    web.desktop()

    # A reversed range is refused on the form, with the API's message.
    page.fill("#id_start_date", "2026-05-10")
    page.fill("#id_end_date", "2026-05-01")
    web.expect(400, f"/portal/apps/{app.pk}/analytics/")
    page.get_by_role("button", name="Show").click()
    page.wait_for_selector("#id_start_date_errors li")
    assert page.inner_text("#id_start_date_errors") == "Must not be after end_date."
    web.shot("analytics-02-bad-range")
    page.get_by_role("link", name="7 days").click()
    assert page.locator("svg.chart-crashes rect").count() == 7
    page.get_by_text("Show every day's figures as a table").click()
    assert page.locator("details.figures tbody tr").count() == 7
    web.shot("analytics-03-last-week-with-table")

    # The charts are drawn on the server: they read the same with JavaScript off.
    plain = web.context.browser.new_context(java_script_enabled=False, viewport=DESKTOP)
    try:
        plain.add_cookies(web.context.cookies())
        without_js = plain.new_page()
        without_js.goto(f"{web.base_url}/portal/apps/{app.pk}/analytics/")
        assert without_js.locator("svg.chart-plot rect").count() == 90
        assert without_js.locator("svg.chart-plot").first.bounding_box()["height"] == 190
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        without_js.screenshot(path=str(SCREENSHOTS / "analytics-04-without-javascript.png"), full_page=True)
    finally:
        plain.close()

    # An app nobody has used yet says where figures come from.
    quiet = make_app(user, package_id="com.example.quiet", name="Quiet")
    web.go(f"/portal/apps/{quiet.pk}/analytics/")
    assert page.get_by_text("Nothing in this range yet.").is_visible()
    web.phone()
    web.shot("analytics-05-no-figures-yet-phone")
    web.no_horizontal_overflow()
    web.desktop()
    web.go(f"/portal/apps/{app.pk}/analytics/")

    page.get_by_role("link", name="Crashes").click()
    assert page.locator(".crash-group").count() == 2
    web.shot("crashes-01-groups")
    web.phone()
    web.shot("crashes-01-groups-phone")
    web.no_horizontal_overflow()
    web.desktop()
    page.get_by_role("link", name="java.lang.NullPointerException").click()
    assert "Editor.save(Editor.java:41)" in page.inner_text(".stack-trace >> nth=0")
    web.shot("crashes-02-group-with-stack")
    web.phone()
    web.shot("crashes-02-group-with-stack-phone")
    web.no_horizontal_overflow()
    web.desktop()

    # Webhooks: an empty event list is refused; then added, its secret copied once, pinged, deleted.
    page.get_by_role("link", name="Webhooks").click()
    page.fill("#id_url", receiver.url)
    web.expect(400, "/portal/webhooks/")
    page.get_by_role("button", name="Add webhook").click()
    assert page.locator("#id_events_errors li").count() == 1
    page.get_by_label("A version was published").check()
    page.get_by_label("A crash report opened a new crash group").check()
    page.get_by_role("button", name="Add webhook").click()
    secret = page.input_value("#new-secret")
    assert secret.startswith("whsec_")
    page.get_by_role("button", name="Copy").click()
    page.wait_for_selector("text=Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    web.shot("webhooks-01-added-secret-once")
    web.phone()
    web.shot("webhooks-01-added-secret-once-phone")
    web.no_horizontal_overflow()
    web.desktop()
    page.get_by_role("link", name="Send it a ping and see its deliveries").click()
    page.get_by_role("button", name="Send a ping").click()
    page.wait_for_selector("text=The ping was delivered")
    assert receiver.requests[-1].headers["X-Mosis-Event"] == "ping"
    page.locator("details.attempts summary").first.click()
    assert "Last answer: HTTP 200" in page.inner_text(".deliveries")
    web.shot("webhooks-02-pinged")
    web.phone()
    web.shot("webhooks-02-pinged-phone")
    web.no_horizontal_overflow()
    web.desktop()
    page.get_by_role("button", name="Delete").click()
    page.wait_for_selector("text=was deleted with its deliveries")
    assert secret not in page.content()
    web.shot("webhooks-03-deleted")
    web.assert_clean()
