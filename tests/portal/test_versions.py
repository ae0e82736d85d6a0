"""Version pages through HTTP as the portal's upload script drives them: create (JSON) → PUT the package to
the URL the version service returned → upload-complete → validation → report, changes, submit, publish, yank,
delete; every refusal of a service is a message or a field error, never an error page."""

import html
import json
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from apps.constants import AppStatus
from mosis_package import ISSUE_FIXES
from tests.factories import UserFactory
from tests.portal.conftest import make_version
from tests.versions.pipeline import (
    manifest_for,
    package_bytes,
    register_signing_key,
    sign_bytes,
    signed_completion,
)
from versions.constants import VersionStatus
from versions.models import AppVersion
from versions.services import record_validation_result, version_review
from versions.services.validation import internal_failure

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def text(response) -> str:
    return html.unescape(response.content.decode())


def create(browser, app, *, data: bytes, version_name="1.0.0", version_code=1, **extra):
    body = {
        "version_name": version_name,
        "version_code": str(version_code),
        "release_notes": "First.",
        **extra,
    }
    if data is not None:
        body["size"] = str(len(data))
    return browser.post(reverse("portal:version-new", args=[app.pk]), body, **JSON)


def upload(client, created: dict, data: bytes):
    """PUT to the URL the service returned, with its headers (what the browser's XMLHttpRequest does)."""
    target = created["upload"]
    assert target["method"] == "PUT"
    return client.put(urlsplit(target["url"]).path, data=data, content_type=target["headers"]["Content-Type"])


def complete(browser, url, capture, **fields):
    with capture(execute=True):
        return browser.post(url, fields, **JSON)


def publishable(browser, app, capture, data=None, **manifest):
    """A version through create → upload → complete → validation, as the page's script does it."""
    data = data or package_bytes(manifest_for(app, **manifest))
    created = create(browser, app, data=data)
    assert created.status_code == 201, created.content
    body = created.json()
    assert upload(browser, body, data).status_code == 200
    done = complete(browser, body["complete_url"], capture, **signed_completion(app.owner, data))
    assert done.status_code == 200, done.content
    assert done.json() == {"redirect": body["version_url"]}
    return AppVersion.objects.get(app=app, version_code=manifest.get("version_code", 1)), body


def test_the_new_version_form_suggests_the_next_version_code(browser, app):
    make_version(app, version_code=7, status=VersionStatus.REJECTED)
    page = browser.get(reverse("portal:version-new", args=[app.pk]))
    assert 'name="version_code" value="8"' in page.content.decode()
    assert 'data-upload="create"' in page.content.decode()


def test_a_browser_upload_goes_to_the_url_the_service_returns_and_is_validated(
    browser, app, django_capture_on_commit_callbacks, no_ratelimits
):
    data = package_bytes(manifest_for(app, permissions=["network", "camera"]))
    created = create(browser, app, data=data)
    assert created.status_code == 201
    body = created.json()
    version = AppVersion.objects.get(app=app)
    assert version.status == VersionStatus.UPLOADING
    assert version.declared_size == len(data)
    assert body["version_url"] == reverse("portal:version", args=[app.pk, version.pk])
    assert body["upload"]["url"].startswith("http://testserver/v1/uploads/")  # the request's host
    assert "Content-Length" not in body["upload"]["headers"]  # a browser sets it itself

    assert upload(browser, body, data).status_code == 200
    response = complete(
        browser,
        body["complete_url"],
        django_capture_on_commit_callbacks,
        **signed_completion(app.owner, data),
    )
    assert response.status_code == 200
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT

    page = text(browser.get(body["version_url"]))
    assert "No errors" in page
    assert "Ready to submit" in page
    assert "Submit for review" in page
    assert "SENSITIVE_PERMISSION" in page  # the warning, with its fix
    assert ISSUE_FIXES["SENSITIVE_PERMISSION"] in page
    assert "No earlier version was published" in page
    assert '"package_id": "com.example.portal"' in page  # the manifest
    assert "Package uploaded, validation started" in page
    assert "Passed validation" in page


def test_a_package_that_fails_validation_lists_errors_first_with_their_fixes(
    browser, app, django_capture_on_commit_callbacks, no_ratelimits
):
    bad = package_bytes(manifest_for(app, version_code=2, permissions=["network", "teleport", "camera"]))
    version, body = publishable(browser, app, django_capture_on_commit_callbacks, data=bad)
    assert version.status == VersionStatus.REJECTED
    page = text(browser.get(body["version_url"]))
    errors_at = page.index("VERSION_CODE_MISMATCH")
    assert page.index("UNKNOWN_PERMISSION") < page.index("SENSITIVE_PERMISSION")
    assert errors_at < page.index("SENSITIVE_PERMISSION")
    assert ISSUE_FIXES["VERSION_CODE_MISMATCH"] in page
    assert ISSUE_FIXES["UNKNOWN_PERMISSION"] in page
    assert "Validation found 2 errors" in page
    dashboard = text(browser.get(reverse("portal:dashboard")))
    assert "Fix 2 validation errors in 1.0.0" in dashboard


def test_submit_then_a_reviewer_approves_then_publish_then_yank(
    browser, user, app, django_capture_on_commit_callbacks, no_ratelimits
):
    version, body = publishable(browser, app, django_capture_on_commit_callbacks)
    url = body["version_url"]
    assert "Submitted for review" in text(
        browser.post(reverse("portal:version-submit", args=[app.pk, version.pk]), follow=True)
    )
    version.refresh_from_db()
    assert version.status == VersionStatus.REVIEW
    assert "is waiting for a reviewer" in text(browser.get(reverse("portal:dashboard")))

    version_review(
        version=version, reviewer=UserFactory(is_staff=True), decision="approve", notes="Looks good."
    )
    page = text(browser.get(url))
    assert "Approved by a reviewer" in page
    assert "by a reviewer" in page  # staff stay anonymous
    assert "Looks good." in page
    assert "Publish 1.0.0" in text(browser.get(reverse("portal:dashboard")))

    response = browser.post(reverse("portal:version-publish", args=[app.pk, version.pk]), follow=True)
    assert "is published" in text(response)
    version.refresh_from_db()
    app.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED
    assert app.status == AppStatus.PUBLISHED
    assert reverse("store-page-app", args=[app.package_id]) in response.content.decode()

    browser.post(reverse("portal:version-yank", args=[app.pk, version.pk]))
    version.refresh_from_db()
    assert version.yanked_at is not None


def test_a_rejection_by_a_reviewer_shows_the_notes(browser, app):
    version = make_version(app, status=VersionStatus.REVIEW)
    version_review(
        version=version, reviewer=UserFactory(is_staff=True), decision="reject", notes="Explain the camera."
    )
    page = text(browser.get(reverse("portal:version", args=[app.pk, version.pk])))
    assert "A reviewer rejected this version." in page
    assert "Explain the camera." in page
    assert "Rejected by a reviewer" in page
    assert "Read the reviewer's notes on" in text(browser.get(reverse("portal:dashboard")))


def test_a_transition_a_service_refuses_is_a_message_naming_the_state(browser, app):
    version = make_version(app, status=VersionStatus.DRAFT)
    response = browser.post(reverse("portal:version-publish", args=[app.pk, version.pk]), follow=True)
    assert response.status_code == 200
    assert "Cannot move the version to 'published': its current state is 'draft'." in text(response)
    response = browser.post(reverse("portal:version-yank", args=[app.pk, version.pk]), follow=True)
    assert "Cannot yank the version: the version is 'draft'." in text(response)


def test_bad_version_fields_come_back_as_field_errors_with_the_apis_messages(browser, app, auth_client):
    make_version(app, version_code=5, status=VersionStatus.DRAFT)
    taken = create(browser, app, data=b"x", version_code=5)
    assert taken.status_code == 400  # the service's 409, shown next to the field it concerns
    assert taken.json()["errors"] == {
        "version_code": ["Must be greater than every earlier version_code of this app."]
    }
    bad = create(browser, app, data=b"x", version_name="one", version_code="abc")
    assert bad.status_code == 400
    errors = bad.json()["errors"]
    api = auth_client.post(
        f"/v1/apps/{app.pk}/versions", {"version_name": "one", "version_code": "abc"}, format="json"
    ).json()["error"]["details"]
    assert errors["version_code"] == api["version_code"]
    not_semver = create(browser, app, data=b"x", version_name="one", version_code=6)
    assert not_semver.json()["errors"]["version_name"] == ["Must be a semantic version such as 1.4.0."]


def test_without_the_script_creating_a_version_leads_to_its_upload_page(browser, app, no_ratelimits):
    response = browser.post(
        reverse("portal:version-new", args=[app.pk]), {"version_name": "1.0.0", "version_code": "1"}
    )
    version = AppVersion.objects.get(app=app)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:version", args=[app.pk, version.pk])
    page = browser.get(response["Location"]).content.decode()
    assert 'data-upload="resume"' in page
    assert reverse("portal:version-upload-target", args=[app.pk, version.pk]) in page
    invalid = browser.post(
        reverse("portal:version-new", args=[app.pk]), {"version_name": "", "version_code": ""}
    )
    assert invalid.status_code == 400
    assert "This field may not be blank." in text(invalid)


def test_an_upload_can_be_resumed_with_a_fresh_url_then_completed(
    browser, app, django_capture_on_commit_callbacks, no_ratelimits
):
    data = package_bytes(manifest_for(app))
    browser.post(reverse("portal:version-new", args=[app.pk]), {"version_name": "1.0.0", "version_code": "1"})
    version = AppVersion.objects.get(app=app)
    target = browser.post(reverse("portal:version-upload-target", args=[app.pk, version.pk]), **JSON)
    assert target.status_code == 200
    body = target.json()
    assert body["declared_size"] is None
    assert upload(browser, body, data).status_code == 200
    complete(
        browser,
        body["complete_url"],
        django_capture_on_commit_callbacks,
        **signed_completion(app.owner, data),
    )
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT
    again = browser.post(reverse("portal:version-upload-target", args=[app.pk, version.pk]), **JSON)
    assert again.status_code == 409
    assert "Cannot upload a package: the version is 'draft'." in again.json()["errors"]["__all__"]


def test_completing_before_uploading_says_so(browser, app, no_ratelimits):
    created = create(browser, app, data=b"0123456789").json()
    response = browser.post(created["complete_url"], {}, **JSON)
    assert response.status_code == 400
    assert "No package has been uploaded for this version yet" in response.json()["errors"]["__all__"][0]
    # Without the script the same refusal is a message on the version's page.
    follow = browser.post(created["complete_url"], {}, follow=True)
    assert "No package has been uploaded for this version yet" in text(follow)


def test_a_signed_upload_records_the_key(
    browser, user, app, tmp_path, settings, django_capture_on_commit_callbacks, no_ratelimits
):
    settings.REQUIRE_SIGNATURE = True
    key, private_key = register_signing_key(user)
    data = package_bytes(manifest_for(app))
    page = browser.get(reverse("portal:version-new", args=[app.pk])).content.decode()
    assert f'value="{key.pk}"' in page
    created = create(browser, app, data=data).json()
    upload(browser, created, data)
    response = complete(
        browser,
        created["complete_url"],
        django_capture_on_commit_callbacks,
        signature=sign_bytes(tmp_path, data, private_key),
        signing_key_id=str(key.pk),
    )
    assert response.status_code == 200
    version = AppVersion.objects.get(app=app)
    assert version.status == VersionStatus.DRAFT, version.validation_report
    assert version.signing_key_fingerprint == key.fingerprint
    unknown = browser.post(created["complete_url"], {"signing_key_id": "not-a-uuid"}, **JSON)
    assert unknown.status_code == 400
    assert unknown.json()["errors"]["signing_key_id"] == ["Must be a valid UUID."]


def test_an_internal_validation_failure_can_be_retried(
    browser, app, django_capture_on_commit_callbacks, no_ratelimits
):
    version, body = publishable(browser, app, django_capture_on_commit_callbacks)
    AppVersion.objects.filter(pk=version.pk).update(status=VersionStatus.VALIDATING)
    version.refresh_from_db()
    record_validation_result(version=version, result=internal_failure("Storage hiccup. Please retry."))
    page = text(browser.get(body["version_url"]))
    assert "Retry validation" in page
    assert ISSUE_FIXES["INTERNAL"] in page
    assert "Retry the validation of 1.0.0" in text(browser.get(reverse("portal:dashboard")))
    with django_capture_on_commit_callbacks(execute=True):
        browser.post(reverse("portal:version-complete", args=[app.pk, version.pk]), {"retry": "1"})
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT


def test_the_poller_reads_the_versions_state(browser, app):
    version = make_version(app, status=VersionStatus.VALIDATING)
    page = browser.get(reverse("portal:version", args=[app.pk, version.pk])).content.decode()
    assert 'data-poll-status="validating"' in page
    response = browser.get(reverse("portal:version-status", args=[app.pk, version.pk]))
    assert json.loads(response.content) == {"status": "validating", "label": "Validating"}
    assert response["Cache-Control"] == "no-store"


def test_delete_before_publication_and_refused_after(browser, app):
    draft = make_version(app, status=VersionStatus.DRAFT, version_code=1)
    response = browser.post(reverse("portal:version-delete", args=[app.pk, draft.pk]))
    assert response["Location"] == reverse("portal:app", args=[app.pk])
    assert not AppVersion.objects.filter(pk=draft.pk).exists()
    published = make_version(app, status=VersionStatus.PUBLISHED, version_code=2)
    page = text(browser.post(reverse("portal:version-delete", args=[app.pk, published.pk]), follow=True))
    assert "Cannot delete the version: the version is 'published'." in page
    assert AppVersion.objects.filter(pk=published.pk).exists()


def test_changes_since_the_last_published_version(browser, app):
    make_version(
        app,
        status=VersionStatus.PUBLISHED,
        version_code=1,
        version_name="1.0.0",
        permissions=["network", "storage"],
        dependencies={"com.example.sync": "^1.0.0", "com.example.old": "*"},
    )
    new = make_version(
        app,
        status=VersionStatus.DRAFT,
        version_code=2,
        version_name="1.1.0",
        permissions=["network", "camera"],
        dependencies={"com.example.sync": "^2.0.0", "com.example.new": "^1.0.0"},
    )
    page = text(browser.get(reverse("portal:version", args=[app.pk, new.pk])))
    changes = page.split("Changes since the last published version", 1)[1].split("</section>", 1)[0]
    assert "Compared with 1.0.0" in changes
    assert "camera" in changes.split("Permissions added", 1)[1].split("</dd>", 1)[0]
    assert "storage" in changes.split("Permissions removed", 1)[1].split("</dd>", 1)[0]
    assert "com.example.new ^1.0.0" in changes
    assert "com.example.old *" in changes
    assert "^1.0.0 → ^2.0.0" in changes


def test_portal_uploads_spend_the_same_budget_as_the_api(browser, auth_client, app, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "upload": "2/h"}
    for code in (1, 2):
        created = auth_client.post(
            f"/v1/apps/{app.pk}/versions",
            {"version_name": f"1.{code}.0", "version_code": code},
            format="json",
        )
        assert created.status_code == 201
    refused = create(browser, app, data=b"x", version_name="1.3.0", version_code=3)
    assert refused.status_code == 400
    assert "Too many uploads in a short time: try again in" in refused.json()["errors"]["__all__"][0]
    assert AppVersion.objects.filter(app=app).count() == 2
    page = browser.post(
        reverse("portal:version-new", args=[app.pk]), {"version_name": "1.3.0", "version_code": "3"}
    )
    assert page.status_code == 400
    assert "Too many uploads" in text(page)
