"""The review console in Django admin (SPEC §8): the queue, the review page and its parts, the version admin."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.models import ActivityEvent
from apps.services import activity_record
from store.models import AbuseReport
from tests.factories import AppFactory, AppVersionFactory, UserFactory
from versions.constants import DiffStatus, VersionStatus
from versions.models import CannedResponse, PackageDiff, PackageDiffFile, ReviewClaim, ReviewComment
from versions.services import review_claim, review_comment_add

pytestmark = pytest.mark.django_db

QUEUE = "admin:versions_reviewqueueitem_changelist"


def review_url(version) -> str:
    return reverse("admin:versions_reviewqueueitem_change", args=[version.pk])


@pytest.fixture
def reviewer(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def colleague(db):
    return UserFactory(is_staff=True, email="colleague@mosis.dev")


@pytest.fixture(autouse=True)
def canned_responses(db):
    """The migration's starting set is gone from a database a transactional test flushed: make two."""
    CannedResponse.objects.get_or_create(
        title="Approved: thank you", defaults={"decision": "approve", "body": "Thank you, approved."}
    )
    CannedResponse.objects.get_or_create(
        title="Sensitive permission not explained",
        defaults={"decision": "reject", "body": "Explain the permission."},
    )


@pytest.fixture
def queued(user):
    app = AppFactory(owner=user, package_id="com.example.queued", name="Queued")
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
    for url in (reverse(QUEUE), review_url(queued[0]), f"{review_url(queued[0])}history/"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


# --- the queue ---------------------------------------------------------------------------------------------
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


def test_queue_is_oldest_first_even_when_the_older_submission_has_the_lower_version_code(reviewer):
    """Defect: the queue was re-sorted by the model's default ordering (newest version_code first)."""
    now = timezone.now()
    waited_long = AppVersionFactory(
        app=AppFactory(package_id="com.example.waitedlong"),
        version_code=3,
        status=VersionStatus.REVIEW,
        submitted_at=now - timedelta(days=4),
    )
    just_in = AppVersionFactory(
        app=AppFactory(package_id="com.example.justin"),
        version_code=700,
        status=VersionStatus.REVIEW,
        submitted_at=now - timedelta(minutes=3),
    )
    response = reviewer.get(reverse(QUEUE))
    assert list(response.context["cl"].result_list) == [waited_long, just_in]
    content = response.content.decode()
    assert content.index("com.example.waitedlong") < content.index("com.example.justin")
    assert "4\xa0days" in content  # the waiting time is shown


def test_changes_column_breaks_lines_instead_of_showing_a_literal_br(reviewer, queued):
    """Defect: the "since last published" column showed ``<br>`` as text."""
    content = reviewer.get(reverse(QUEUE)).content.decode()
    assert "&lt;br&gt;" not in content
    assert "+perm: camera</span><br>+dep: com.example.maps ^1.0.0<br>" in content


def test_queue_shows_flags_and_filters_by_them_with_counts(reviewer, queued, user):
    newer, older = queued
    AbuseReport.objects.create(app=older.app, reporter=user, reason="spam")
    response = reviewer.get(reverse(QUEUE))
    content = response.content.decode()
    assert "review-flag-new_sensitive_permissions" in content
    assert "New sensitive permissions (1)" in content
    assert "Abuse reports on the app (1)" in content
    filtered = reviewer.get(reverse(QUEUE), {"flag": "new_sensitive_permissions"})
    assert list(filtered.context["cl"].result_list) == [newer]
    filtered = reviewer.get(reverse(QUEUE), {"flag": "abuse_reports"})
    assert list(filtered.context["cl"].result_list) == [older]
    assert list(reviewer.get(reverse(QUEUE), {"flag": "bogus"}).context["cl"].result_list) == []


def test_queue_shows_who_holds_each_item_and_filters_by_claim(reviewer, queued, staff_user, colleague):
    newer, older = queued
    review_claim(version=newer, reviewer=staff_user)
    review_claim(version=older, reviewer=colleague)
    content = reviewer.get(reverse(QUEUE)).content.decode()
    assert "claim-mine'>you</span>" in content
    assert "colleague@mosis.dev" in content
    mine = reviewer.get(reverse(QUEUE), {"claim": "mine"})
    assert list(mine.context["cl"].result_list) == [newer]
    others = reviewer.get(reverse(QUEUE), {"claim": "others"})
    assert list(others.context["cl"].result_list) == [older]
    ReviewClaim.objects.filter(version=older).update(expires_at=timezone.now() - timedelta(minutes=1))
    unclaimed = reviewer.get(reverse(QUEUE), {"claim": "unclaimed"})
    assert list(unclaimed.context["cl"].result_list) == [older]


@pytest.mark.parametrize("count", [1, 20])
def test_queue_page_query_count_does_not_grow(reviewer, count, staff_user, django_assert_max_num_queries):
    now = timezone.now()
    for n in range(count):
        app = AppFactory()
        AppVersionFactory(app=app, version_code=1, status=VersionStatus.PUBLISHED, permissions=["network"])
        version = AppVersionFactory(
            app=app,
            version_code=2,
            status=VersionStatus.REVIEW,
            submitted_at=now - timedelta(minutes=n),
            permissions=["network", "camera"],
            sensitive_permissions=["camera"],
        )
        review_claim(version=version, reviewer=staff_user)
    with django_assert_max_num_queries(12):
        response = reviewer.get(reverse(QUEUE))
    assert response.content.decode().count("+perm: camera") == count


# --- bulk actions --------------------------------------------------------------------------------------------
def test_bulk_approve_reports_each_failure(staff_user, reviewer, queued, colleague):
    newer, older = queued
    own = AppVersionFactory(
        app=AppFactory(owner=staff_user), status=VersionStatus.REVIEW, submitted_at=timezone.now()
    )
    held = AppVersionFactory(status=VersionStatus.REVIEW, submitted_at=timezone.now())
    review_claim(version=held, reviewer=colleague)
    response = reviewer.post(
        reverse(QUEUE),
        {"action": "approve_selected", "_selected_action": [newer.pk, older.pk, own.pk, held.pk]},
        follow=True,
    )
    content = response.content.decode()
    assert "2 version(s) approved" in content
    assert "never a version of an app they own" in content
    assert "colleague@mosis.dev has claimed this version" in content
    for version, status in ((newer, "approved"), (own, "review"), (held, "review")):
        version.refresh_from_db()
        assert version.status == status


def test_bulk_claim(reviewer, queued, staff_user, colleague):
    newer, older = queued
    review_claim(version=older, reviewer=colleague)
    response = reviewer.post(
        reverse(QUEUE), {"action": "claim_selected", "_selected_action": [newer.pk, older.pk]}, follow=True
    )
    content = response.content.decode()
    assert "1 version(s) claimed by you" in content
    assert "colleague@mosis.dev has claimed" in content
    assert ReviewClaim.objects.get(version=newer).reviewer == staff_user


def test_bulk_reject_asks_for_notes_first_and_offers_canned_responses(reviewer, queued):
    newer, older = queued
    selected = {"action": "reject_selected", "_selected_action": [newer.pk, older.pk]}
    page = reviewer.post(reverse(QUEUE), selected)
    assert page.status_code == 200
    content = page.content.decode()
    assert "will be <strong>rejected</strong>" in content
    assert "Sensitive permission not explained" in content  # a rejection canned response
    assert "Approved: thank you" not in content
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


# --- the review page ----------------------------------------------------------------------------------------
def test_review_page_shows_report_manifest_changes_flags_and_download(reviewer, queued):
    newer, _ = queued
    response = reviewer.get(review_url(newer))
    assert response.status_code == 200
    content = response.content.decode()
    assert "SENSITIVE_PERMISSION" in content
    assert "&quot;version_code&quot;: 2" in content
    assert "Download .mpk" in content
    assert "/v1/files/" in content
    assert response.context["changes"]["permissions_added"] == ["camera"]
    assert [flag for flag, _ in response.context["flags"]] == [
        "new_sensitive_permissions",
        "new_dependencies",
    ]
    assert response.context["can_decide"] is True
    assert "Approved: thank you" in content and "Sensitive permission not explained" in content


def test_approve_from_the_review_page_emails_the_quoted_notes(
    reviewer, queued, user, django_capture_on_commit_callbacks
):
    newer, _ = queued
    with django_capture_on_commit_callbacks(execute=True):
        response = reviewer.post(review_url(newer), {"decision": "approve", "notes": "Fine.\nThanks."})
    assert response.status_code == 302
    newer.refresh_from_db()
    assert (newer.status, newer.review_notes) == (VersionStatus.APPROVED, "Fine.\nThanks.")
    [message] = mail.outbox
    assert message.to == [user.email]
    assert "> Fine.\n> Thanks." in message.body
    assert f"/portal/apps/{newer.app_id}/versions/{newer.pk}/" in message.body


def test_reject_without_notes_is_refused_on_the_page(reviewer, queued):
    newer, _ = queued
    response = reviewer.post(review_url(newer), {"decision": "reject", "notes": ""}, follow=True)
    assert "needs notes" in response.content.decode()
    newer.refresh_from_db()
    assert newer.status == VersionStatus.REVIEW


def test_reviewer_cannot_decide_on_their_own_app(staff_user, reviewer):
    own = AppVersionFactory(app=AppFactory(owner=staff_user), status=VersionStatus.REVIEW)
    page = reviewer.get(review_url(own))
    assert page.context["can_decide"] is False
    assert "another reviewer must decide" in page.content.decode()
    response = reviewer.post(review_url(own), {"decision": "approve", "notes": ""}, follow=True)
    assert "never a version of an app they own" in response.content.decode()
    for op in ("claim", "comment", "diff"):
        reviewer.post(review_url(own), {"op": op, "body": "mine"})
    own.refresh_from_db()
    assert own.status == VersionStatus.REVIEW
    assert not ReviewClaim.objects.exists() and not ReviewComment.objects.exists()
    assert not PackageDiff.objects.exists()


def test_claim_extend_and_release_from_the_review_page(reviewer, queued, staff_user):
    newer, _ = queued
    response = reviewer.post(review_url(newer), {"op": "claim"}, follow=True)
    assert "You hold this version until" in response.content.decode()
    assert ReviewClaim.objects.get(version=newer).reviewer == staff_user
    response = reviewer.post(review_url(newer), {"op": "release"}, follow=True)
    assert "You released your claim" in response.content.decode()
    assert not ReviewClaim.objects.exists()


def test_approving_another_reviewers_claim_asks_for_a_confirmation(reviewer, queued, colleague):
    newer, _ = queued
    review_claim(version=newer, reviewer=colleague)
    page = reviewer.get(review_url(newer))
    assert "colleague@mosis.dev</strong> holds this version" in page.content.decode()
    asked = reviewer.post(review_url(newer), {"op": "decide", "decision": "approve", "notes": "Looks <ok>"})
    assert asked.status_code == 200
    content = asked.content.decode()
    assert "colleague@mosis.dev has claimed this version" in content
    assert 'name="confirm_claim" value="on"' in content
    assert 'name="notes" value="Looks &lt;ok&gt;"' in content  # carried over, escaped
    newer.refresh_from_db()
    assert newer.status == VersionStatus.REVIEW
    confirmed = reviewer.post(
        review_url(newer),
        {"op": "decide", "decision": "approve", "notes": "Looks <ok>", "confirm_claim": "on"},
    )
    assert confirmed.status_code == 302
    newer.refresh_from_db()
    assert (newer.status, newer.review_notes) == (VersionStatus.APPROVED, "Looks <ok>")


def test_taking_over_a_claim(reviewer, queued, colleague, staff_user):
    newer, _ = queued
    review_claim(version=newer, reviewer=colleague)
    reviewer.post(review_url(newer), {"op": "claim"})
    assert ReviewClaim.objects.get(version=newer).reviewer == colleague
    reviewer.post(review_url(newer), {"op": "claim", "take_over": "1"})
    assert ReviewClaim.objects.get(version=newer).reviewer == staff_user


def test_internal_comments_on_the_review_page(reviewer, queued, staff_user):
    newer, _ = queued
    response = reviewer.post(
        review_url(newer), {"op": "comment", "body": "<b>Check</b> the SDK."}, follow=True
    )
    content = response.content.decode()
    assert "Comment added" in content
    assert "&lt;b&gt;Check&lt;/b&gt; the SDK." in content
    assert ReviewComment.objects.get().author == staff_user
    empty = reviewer.post(review_url(newer), {"op": "comment", "body": " "}, follow=True)
    assert "The comment is empty" in empty.content.decode()


def test_review_page_remembers_the_app(reviewer, queued, user, colleague):
    newer, _ = queued
    earlier = AppVersionFactory(app=newer.app, version_code=3, status=VersionStatus.REVIEW)
    activity_record(
        type="version.rejected",
        version=earlier,
        actor=colleague,
        data={"from": "review", "to": "rejected", "version_name": "1.3.0", "version_code": 3, "notes": "No."},
    )
    review_comment_add(version=newer, author=colleague, body="Second look at the ads.")
    AbuseReport.objects.create(app=newer.app, reporter=UserFactory(), reason="malware", comment="<script>x")
    AppFactory(owner=user, package_id="com.example.sibling")
    content = reviewer.get(review_url(newer)).content.decode()
    assert "1.3.0 (code 3): status: review → rejected by colleague@mosis.dev" in content
    assert "Second look at the ads." in content
    assert "&lt;script&gt;x" in content and "<script>x" not in content
    assert "com.example.sibling" in content


@pytest.mark.parametrize("count", [1, 15])
def test_review_page_query_count_does_not_grow(
    reviewer, queued, user, colleague, count, django_assert_max_num_queries
):
    newer, _ = queued
    diff = PackageDiff.objects.create(version=newer, status=DiffStatus.READY)
    for n in range(count):
        review_comment_add(version=newer, author=colleague, body=f"comment {n}")
        AbuseReport.objects.create(app=newer.app, reporter=UserFactory(), reason="spam")
        AppFactory(owner=user)
        PackageDiffFile.objects.create(diff=diff, position=n, path=f"f{n}.txt", change="added", kind="text")
        activity_record(type="version.submitted", version=newer, actor=user)
    with django_assert_max_num_queries(24):
        response = reviewer.get(review_url(newer))
    assert response.content.decode().count("diff-file change-added") == count


# --- the diff on the review page ----------------------------------------------------------------------------
def test_the_review_page_says_when_there_is_no_diff_and_computes_it_on_demand(
    reviewer, queued, django_capture_on_commit_callbacks
):
    newer, _ = queued
    assert "No file-by-file diff has been computed" in reviewer.get(review_url(newer)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        reviewer.post(review_url(newer), {"op": "diff"})
    diff = PackageDiff.objects.get(version=newer)
    assert diff.status == DiffStatus.FAILED  # the factory's version has no package in storage
    content = reviewer.get(review_url(newer)).content.decode()
    assert "The diff could not be computed" in content and "Recompute" in content


def test_a_pending_diff_is_shown_as_such(reviewer, queued):
    newer, _ = queued
    PackageDiff.objects.create(version=newer, status=DiffStatus.PENDING, requested_at=timezone.now())
    assert "is being computed" in reviewer.get(review_url(newer)).content.decode()


def test_a_diff_against_an_older_base_offers_a_recompute(reviewer, queued):
    newer, _ = queued
    PackageDiff.objects.create(version=newer, status=DiffStatus.READY, base_version=None)
    content = reviewer.get(review_url(newer)).content.decode()
    assert "but the last published version is now 1.1.0" in content
    assert "Recompute against it" in content


def test_diff_files_are_listed_escaped_and_each_text_diff_loads_on_its_own(reviewer, queued, staff_user):
    newer, older = queued
    previous = newer.app.versions.get(version_code=1)
    diff = PackageDiff.objects.create(
        version=newer,
        base_version=previous,
        status=DiffStatus.READY,
        files_changed=2,
        manifest_changes=[{"field": "permissions", "change": "changed", "old": '["network"]', "new": "<x>"}],
    )
    text = PackageDiffFile.objects.create(
        diff=diff,
        position=1,
        path="src/<img onerror=1>.js",
        change="changed",
        kind="text",
        old_size=10,
        new_size=12,
        diff_text="--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old <b>\n+new <script>alert(1)</script>",
    )
    PackageDiffFile.objects.create(
        diff=diff, position=0, path="manifest.json", change="changed", kind="text", diff_text="-a\n+b"
    )
    page = reviewer.get(review_url(newer)).content.decode()
    assert page.index("manifest.json") < page.index("src/&lt;img onerror=1&gt;.js")
    assert "<img onerror=1>" not in page
    assert "alert(1)" not in page  # not on the page: loaded when opened
    assert "&lt;x&gt;" in page
    fragment_url = reverse("admin:versions_reviewqueueitem_diff_file", args=[newer.pk, text.pk])
    assert fragment_url in page
    fragment = reviewer.get(fragment_url)
    assert fragment.status_code == 200
    body = fragment.content.decode()
    assert '<span class="diff-add">+new &lt;script&gt;alert(1)&lt;/script&gt;</span>' in body
    assert '<span class="diff-del">-old &lt;b&gt;</span>' in body
    assert '<span class="diff-hunk">@@ -1 +1 @@</span>' in body
    # A file of another version's diff is not reachable through this version.
    assert (
        reviewer.get(
            reverse("admin:versions_reviewqueueitem_diff_file", args=[older.pk, text.pk])
        ).status_code
        == 404
    )
    anonymous = Client().get(fragment_url)
    assert anonymous.status_code == 302


def test_all_files_of_a_big_diff_are_paginated(reviewer, queued):
    newer, _ = queued
    diff = PackageDiff.objects.create(version=newer, status=DiffStatus.READY, files_added=650)
    PackageDiffFile.objects.bulk_create(
        PackageDiffFile(diff=diff, position=n, path=f"f{n:04d}.bin", change="added", kind="binary")
        for n in range(650)
    )
    page = reviewer.get(review_url(newer)).content.decode()
    assert page.count("diff-file change-added") == 200
    assert "All files that differ (450 more)" in page
    url = reverse("admin:versions_reviewqueueitem_diff", args=[newer.pk])
    first = reviewer.get(url).content.decode()
    assert first.count("diff-file change-added") == 500 and "page 1 of 2" in first
    assert reviewer.get(url, {"p": 2}).content.decode().count("diff-file change-added") == 150


# --- history, titles, read-only pages ------------------------------------------------------------------------
def test_version_history_view_shows_the_activity_events_in_words(reviewer, queued, staff_user):
    newer, _ = queued
    activity_record(
        type="version.approved",
        version=newer,
        actor=staff_user,
        data={"from": "review", "to": "approved", "version_name": "2.0.0", "version_code": 2},
    )
    for url in (
        reverse("admin:versions_appversion_history", args=[newer.pk]),
        reverse("admin:versions_reviewqueueitem_history", args=[newer.pk]),
    ):
        content = reviewer.get(url).content.decode()
        assert f"2.0.0 (code 2): status: review → approved by {staff_user.email}" in content
        assert "History of com.example.queued 2.0.0 (2)" in content


def test_versions_are_titled_with_their_package_id(reviewer, queued):
    """Defect: versions were titled with the app's UUID."""
    newer, _ = queued
    content = reviewer.get(reverse("admin:versions_appversion_change", args=[newer.pk])).content.decode()
    assert "<title>com.example.queued 2.0.0 (2) | View app version" in content
    assert "<h2>com.example.queued 2.0.0 (2)</h2>" in content
    assert f"{newer.app_id} 2.0.0" not in content
    listing = reviewer.get(reverse("admin:versions_appversion_changelist")).content.decode()
    assert "com.example.queued 2.0.0 (2)" in listing


def test_version_admin_is_read_only_without_save_buttons(reviewer, queued):
    """Defect: read-only pages showed Save buttons."""
    newer, _ = queued
    activity_record(type="version.submitted", version=newer, actor=newer.app.owner)
    url = reverse("admin:versions_appversion_change", args=[newer.pk])
    page = reviewer.get(url)
    assert page.status_code == 200
    content = page.content.decode()
    assert "activity history" in content.lower()
    assert 'name="_save"' not in content and 'name="_continue"' not in content
    assert "Open the review page" in content
    assert reviewer.post(url, {"status": "published"}).status_code == 403
    newer.refresh_from_db()
    assert newer.status == VersionStatus.REVIEW
    assert reviewer.get(reverse("admin:versions_appversion_add")).status_code == 403


def test_canned_responses_are_staff_editable(queued):
    staff = UserFactory(is_staff=True)  # not a superuser: no model permissions granted
    client = Client()
    client.force_login(staff)
    response = client.post(
        reverse("admin:versions_cannedresponse_add"),
        {
            "title": "Needs a privacy policy",
            "decision": "reject",
            "body": "Link a privacy policy.",
            "position": 9,
            "active": "on",
        },
    )
    assert response.status_code == 302
    canned = CannedResponse.objects.get(title="Needs a privacy policy")
    content = client.get(review_url(queued[0])).content.decode()
    assert 'data-body="Link a privacy policy."' in content
    canned.active = False
    canned.save()
    assert "Needs a privacy policy" not in client.get(review_url(queued[0])).content.decode()


def test_history_events_are_the_activity_events_not_the_admin_log(reviewer, queued):
    newer, _ = queued
    reviewer.post(review_url(newer), {"decision": "approve", "notes": "ok"})
    assert ActivityEvent.objects.filter(version=newer, type="version.approved").exists()
    content = reviewer.get(
        reverse("admin:versions_reviewqueueitem_history", args=[newer.pk])
    ).content.decode()
    assert "status: review → approved" in content


def test_the_migration_gives_a_starting_set_of_canned_responses():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("versions.migrations.0007_default_canned_responses")
    CannedResponse.objects.all().delete()
    migration.create_defaults(apps, None)
    migration.create_defaults(apps, None)  # idempotent
    titles = list(CannedResponse.objects.values_list("title", flat=True))
    assert titles[0] == "Approved: thank you" and len(titles) == 5
    assert set(CannedResponse.objects.values_list("decision", flat=True)) == {"approve", "reject"}


@pytest.mark.parametrize("count", [1, 60])
def test_diff_files_page_query_count_does_not_grow(reviewer, queued, count, django_assert_max_num_queries):
    newer, _ = queued
    diff = PackageDiff.objects.create(version=newer, status=DiffStatus.READY, files_added=count)
    PackageDiffFile.objects.bulk_create(
        PackageDiffFile(diff=diff, position=n, path=f"f{n}.txt", change="added", kind="text")
        for n in range(count)
    )
    with django_assert_max_num_queries(10):
        response = reviewer.get(reverse("admin:versions_reviewqueueitem_diff", args=[newer.pk]))
    assert response.content.decode().count("diff-file change-added") == count
