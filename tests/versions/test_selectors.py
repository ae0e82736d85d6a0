"""Review console reads: the queue's order and flags, its summary, and the memory of an app."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.constants import AppStatus
from apps.services import activity_record, app_set_status
from store.models import AbuseReport
from tests.factories import AppFactory, AppVersionFactory, UserFactory
from versions import selectors
from versions.constants import ReviewFlag, VersionStatus
from versions.services import review_claim, review_comment_add, review_decide

pytestmark = pytest.mark.django_db
MiB = 1024 * 1024


def in_review(app, code: int, *, waited: timedelta = timedelta(hours=1), **fields):
    return AppVersionFactory(
        app=app,
        version_code=code,
        status=VersionStatus.REVIEW,
        submitted_at=timezone.now() - waited,
        **fields,
    )


def published(app, code: int, **fields):
    return AppVersionFactory(
        app=app, version_code=code, status=VersionStatus.PUBLISHED, published_at=timezone.now(), **fields
    )


def flags_of(version) -> list[str]:
    return selectors.review_flags(selectors.review_queue().get(pk=version.pk))


def test_the_queue_is_oldest_submission_first_whatever_the_version_codes():
    late_high = in_review(AppFactory(), 90, waited=timedelta(minutes=5))
    early_low = in_review(AppFactory(), 2, waited=timedelta(days=2))
    middle = in_review(AppFactory(), 50, waited=timedelta(hours=3))
    assert list(selectors.review_queue()) == [early_low, middle, late_high]


def test_a_first_version_of_a_new_app_by_a_first_time_developer():
    version = in_review(AppFactory(), 1, permissions=["network"])
    assert flags_of(version) == [ReviewFlag.FIRST_VERSION, ReviewFlag.FIRST_SUBMISSION]


def test_an_update_by_a_known_developer_has_no_flag():
    app = AppFactory()
    published(app, 1, permissions=["network", "camera"], dependencies={"com.x.a": "^1"}, package_size=MiB)
    version = in_review(
        app, 2, permissions=["network", "camera"], sensitive_permissions=["camera"], package_size=MiB + 10
    )
    version.dependencies = {"com.x.a": "^2"}
    version.save(update_fields=["dependencies"])
    assert flags_of(version) == []


def test_new_sensitive_permissions_and_new_dependencies_are_flagged():
    app = AppFactory()
    published(app, 1, permissions=["network"], dependencies={"com.x.a": "^1"})
    version = in_review(
        app,
        2,
        permissions=["network", "camera"],
        sensitive_permissions=["camera"],
        dependencies={"com.x.a": "^1", "com.x.b": "^1"},
    )
    assert flags_of(version) == [ReviewFlag.NEW_SENSITIVE_PERMISSIONS, ReviewFlag.NEW_DEPENDENCIES]


@pytest.mark.parametrize(
    "old,new,flagged",
    [
        (4 * MiB, 6 * MiB, True),  # +50 %, +2 MiB
        (4 * MiB, 2 * MiB, True),  # -50 %
        (4 * MiB, 5 * MiB, False),  # +25 %
        (MiB // 2, MiB, False),  # +100 % but only 512 KiB
        (2 * MiB, 3 * MiB, True),  # +50 % and 1 MiB: both bounds are inclusive
    ],
)
def test_a_large_size_change_passes_both_the_percentage_and_the_bytes(old, new, flagged, settings):
    settings.REVIEW_LARGE_SIZE_CHANGE_PERCENT = 50
    settings.REVIEW_LARGE_SIZE_CHANGE_MIN_BYTES = MiB
    app = AppFactory()
    published(app, 1, package_size=old)
    version = in_review(app, 2, package_size=new)
    assert (ReviewFlag.LARGE_SIZE_CHANGE in flags_of(version)) is flagged


def test_open_abuse_reports_on_the_app_are_flagged(user):
    app = AppFactory()
    published(app, 1)
    version = in_review(app, 2)
    report = AbuseReport.objects.create(app=app, reporter=user, reason="spam")
    assert flags_of(version) == [ReviewFlag.ABUSE_REPORTS]
    report.resolved_at = timezone.now()
    report.save()
    assert flags_of(version) == []


def test_a_developers_first_submission_is_their_first_ever():
    developer = UserFactory()
    older_app = AppFactory(owner=developer)
    first = in_review(older_app, 1, waited=timedelta(days=2))
    second = in_review(AppFactory(owner=developer), 1, waited=timedelta(hours=1))
    assert ReviewFlag.FIRST_SUBMISSION in flags_of(first)
    assert ReviewFlag.FIRST_SUBMISSION not in flags_of(second)


def test_flag_ids_counts_and_summary(staff_user):
    other = UserFactory(is_staff=True)
    a = in_review(AppFactory(), 1, waited=timedelta(days=3))
    b = in_review(AppFactory(), 1, waited=timedelta(days=1))
    app = AppFactory()
    published(app, 1)
    c = in_review(app, 2, sensitive_permissions=["camera"], permissions=["camera"])
    review_claim(version=a, reviewer=staff_user)
    review_claim(version=b, reviewer=other)
    assert set(selectors.review_queue_ids_with_flag(ReviewFlag.FIRST_VERSION)) == {a.pk, b.pk}
    counts = selectors.review_flag_counts()
    assert counts[ReviewFlag.FIRST_VERSION] == 2 and counts[ReviewFlag.NEW_SENSITIVE_PERMISSIONS] == 1
    summary = selectors.review_queue_summary(user=staff_user)
    assert summary["total"] == 3
    assert summary["oldest_submitted_at"] == a.submitted_at
    assert (summary["unclaimed"], summary["claimed_by_me"], summary["claimed_by_others"]) == (1, 1, 1)
    assert dict((flag, n) for flag, _, n in summary["flags"])[ReviewFlag.NEW_SENSITIVE_PERMISSIONS] == 1
    assert c.pk in selectors.review_queue_ids_with_flag(ReviewFlag.NEW_SENSITIVE_PERMISSIONS)


@pytest.mark.parametrize("queued", [1, 30])
def test_the_summary_is_one_query_whatever_the_queue(queued, staff_user, django_assert_num_queries):
    for _ in range(queued):
        in_review(AppFactory(), 1)
    with django_assert_num_queries(1):
        assert selectors.review_queue_summary(user=staff_user)["total"] == queued


def test_the_memory_of_an_app(staff_user, user):
    colleague = UserFactory(is_staff=True)
    app = AppFactory(owner=user, status=AppStatus.PUBLISHED)
    rejected = in_review(app, 1)
    review_decide(version=rejected, reviewer=colleague, decision="reject", notes="Crashes on start.")
    app_set_status(app=app, to=AppStatus.SUSPENDED, actor=colleague, reason="Spam reports")
    current = in_review(app, 2)
    review_comment_add(version=current, author=colleague, body="Check the ads SDK.")
    AbuseReport.objects.create(app=app, reporter=staff_user, reason="malware", comment="Steals contacts")
    sibling = AppFactory(owner=user, package_id="com.example.sibling")
    sibling_version = in_review(sibling, 1)
    review_decide(version=sibling_version, reviewer=colleague, decision="reject", notes="Sibling issue.")
    activity_record(type="app.updated", app=app, actor=user, data={"fields": ["name"]})  # not a decision

    memory = selectors.app_review_memory(version=selectors.review_version(version_id=current.pk))
    assert [e.type for e in memory["decisions"]] == ["app.status_changed", "version.rejected"]
    assert memory["decisions"][1].data["notes"] == "Crashes on start."
    assert [c.body for c in memory["comments"]] == ["Check the ads SDK."]
    assert (memory["abuse_report_count"], memory["open_abuse_report_count"]) == (1, 1)
    assert memory["abuse_reports"][0].comment == "Steals contacts"
    assert [a.package_id for a in memory["other_apps"]] == ["com.example.sibling"]
    assert memory["other_apps"][0].rejected_count == 1
    assert [e.data["notes"] for e in memory["other_decisions"]] == ["Sibling issue."]


def test_validation_rejections_are_not_reviewer_decisions(user):
    app = AppFactory(owner=user)
    failed = AppVersionFactory(app=app, version_code=1, status=VersionStatus.REJECTED)
    activity_record(type="version.rejected", version=failed, data={"from": "validating", "to": "rejected"})
    current = in_review(app, 2)
    memory = selectors.app_review_memory(version=current)
    assert memory["decisions"] == []


def test_active_claim_ignores_expired_claims(staff_user):
    version = in_review(AppFactory(), 1)
    review_claim(version=version, reviewer=staff_user, now=timezone.now() - timedelta(days=1))
    assert selectors.active_claim(version=selectors.review_version(version_id=version.pk)) is None
    review_claim(version=version, reviewer=staff_user)
    assert selectors.active_claim(version=selectors.review_version(version_id=version.pk)) is not None
    assert selectors.review_version(version_id="not-a-uuid") is None
