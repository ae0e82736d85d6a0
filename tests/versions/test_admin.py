"""The review console in Django admin (SPEC §8)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import AppFactory, AppVersionFactory, UserFactory
from versions.constants import VersionStatus

pytestmark = pytest.mark.django_db

QUEUE = "admin:versions_reviewqueueitem_changelist"


@pytest.fixture
def reviewer(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def queued(user):
    app = AppFactory(owner=user, package_id="com.example.queued")
    AppVersionFactory(
        app=app,
        version_code=1,
        status=VersionStatus.PUBLISHED,
        permissions=["network"],
        dependencies={"com.example.sync": "^1.0.0"},
    )
    now = timezone.now()
    newer = AppVersionFactory(
        app=app,
        version_code=2,
        version_name="2.0.0",
        status=VersionStatus.REVIEW,
        submitted_at=now,
        permissions=["network", "camera"],
        sensitive_permissions=["camera"],
        dependencies={"com.example.sync": "^2.0.0", "com.example.maps": "^1.0.0"},
        validation_report={
            "ok": True,
            "errors": [],
            "warnings": [
                {
                    "code": "SENSITIVE_PERMISSION",
                    "message": "camera is sensitive",
                    "path": "manifest.json",
                    "severity": "warning",
                }
            ],
            "sha256": "ab" * 32,
            "size": 1024,
        },
        manifest={"package_id": "com.example.queued", "version_code": 2},
    )
    older = AppVersionFactory(
        app=AppFactory(owner=UserFactory(), package_id="com.example.older"),
        version_code=5,
        status=VersionStatus.REVIEW,
        submitted_at=now - timedelta(days=1),
    )
    return newer, older


def test_non_staff_cannot_reach_the_console(user, queued):
    client = Client()
    client.force_login(user)
    response = client.get(reverse(QUEUE))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_queue_lists_versions_in_review_oldest_first(reviewer, queued):
    newer, older = queued
    AppVersionFactory(status=VersionStatus.DRAFT)
    response = reviewer.get(reverse(QUEUE))
    assert response.status_code == 200
    content = response.content.decode()
    assert content.index("com.example.older") < content.index("com.example.queued")
    assert list(response.context["cl"].result_list) == [older, newer]
    assert "+perm: camera" in content
    assert "+dep: com.example.maps ^1.0.0" in content
    assert "dep: com.example.sync ^1.0.0 → ^2.0.0" in content


def test_review_page_shows_report_manifest_diff_and_download(reviewer, queued):
    newer, _ = queued
    response = reviewer.get(reverse("admin:versions_reviewqueueitem_change", args=[newer.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "SENSITIVE_PERMISSION" in content
    assert "&quot;version_code&quot;: 2" in content
    assert "Download .mpk" in content
    assert "/v1/files/" in content
    assert response.context["diff"]["permissions_added"] == ["camera"]
    assert response.context["can_decide"] is True


def test_approve_from_the_review_page(reviewer, queued, user, django_capture_on_commit_callbacks):
    newer, _ = queued
    url = reverse("admin:versions_reviewqueueitem_change", args=[newer.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = reviewer.post(url, {"decision": "approve", "notes": "Fine."})
    assert response.status_code == 302
    newer.refresh_from_db()
    assert newer.status == VersionStatus.APPROVED
    assert newer.review_notes == "Fine."
    assert mail.outbox[0].to == [user.email]


def test_reject_without_notes_is_refused_on_the_page(reviewer, queued):
    newer, _ = queued
    url = reverse("admin:versions_reviewqueueitem_change", args=[newer.pk])
    response = reviewer.post(url, {"decision": "reject", "notes": ""}, follow=True)
    assert "needs notes" in response.content.decode()
    newer.refresh_from_db()
    assert newer.status == VersionStatus.REVIEW


def test_reviewer_cannot_decide_on_their_own_app(staff_user, reviewer):
    own = AppVersionFactory(app=AppFactory(owner=staff_user), status=VersionStatus.REVIEW)
    url = reverse("admin:versions_reviewqueueitem_change", args=[own.pk])
    page = reviewer.get(url)
    assert page.context["can_decide"] is False
    assert "another reviewer must decide" in page.content.decode()
    response = reviewer.post(url, {"decision": "approve", "notes": ""}, follow=True)
    assert "never a version of an app they own" in response.content.decode()
    own.refresh_from_db()
    assert own.status == VersionStatus.REVIEW


def test_bulk_approve_reports_each_failure(staff_user, reviewer, queued):
    newer, older = queued
    own = AppVersionFactory(
        app=AppFactory(owner=staff_user), status=VersionStatus.REVIEW, submitted_at=timezone.now()
    )
    response = reviewer.post(
        reverse(QUEUE),
        {"action": "approve_selected", "_selected_action": [newer.pk, older.pk, own.pk]},
        follow=True,
    )
    content = response.content.decode()
    assert "2 version(s) approved" in content
    assert "never a version of an app they own" in content
    newer.refresh_from_db()
    own.refresh_from_db()
    assert newer.status == VersionStatus.APPROVED
    assert own.status == VersionStatus.REVIEW


def test_bulk_reject_asks_for_notes_first(reviewer, queued):
    newer, older = queued
    selected = {"action": "reject_selected", "_selected_action": [newer.pk, older.pk]}
    page = reviewer.post(reverse(QUEUE), selected)
    assert page.status_code == 200
    assert "will be <strong>rejected</strong>" in page.content.decode()
    newer.refresh_from_db()
    assert newer.status == VersionStatus.REVIEW

    missing = reviewer.post(reverse(QUEUE), {**selected, "apply": "1", "notes": ""})
    assert missing.status_code == 200
    older.refresh_from_db()
    assert older.status == VersionStatus.REVIEW

    done = reviewer.post(reverse(QUEUE), {**selected, "apply": "1", "notes": "Broken on 2.x."}, follow=True)
    assert "2 version(s) rejected" in done.content.decode()
    newer.refresh_from_db()
    assert (newer.status, newer.review_notes) == (VersionStatus.REJECTED, "Broken on 2.x.")


def test_version_admin_is_read_only_with_history(reviewer, queued):
    from apps.services import activity_record

    newer, _ = queued
    activity_record(type="version.submitted", version=newer, actor=newer.app.owner)
    url = reverse("admin:versions_appversion_change", args=[newer.pk])
    page = reviewer.get(url)
    assert page.status_code == 200
    content = page.content.decode()
    assert "Activity history" in content
    assert "version.submitted" in content
    reviewer.post(url, {"status": "published"})
    newer.refresh_from_db()
    assert newer.status == VersionStatus.REVIEW
    assert reviewer.get(reverse("admin:versions_appversion_changelist")).status_code == 200
    assert reviewer.get(reverse("admin:versions_appversion_add")).status_code == 403


@pytest.mark.parametrize("count", [1, 20])
def test_queue_page_query_count_does_not_grow(reviewer, count, django_assert_max_num_queries):
    now = timezone.now()
    for n in range(count):
        app = AppFactory()
        AppVersionFactory(app=app, version_code=1, status=VersionStatus.PUBLISHED, permissions=["network"])
        AppVersionFactory(
            app=app,
            version_code=2,
            status=VersionStatus.REVIEW,
            submitted_at=now - timedelta(minutes=n),
            permissions=["network", "camera"],
        )
    with django_assert_max_num_queries(12):
        response = reviewer.get(reverse(QUEUE))
    assert response.content.decode().count("+perm: camera") == count
