"""Service rules of the version state machine: review policy, emails, auto-publish, concurrency."""

import threading

import pytest
from django.core import mail
from django.db import connection

from apps.models import App
from mosis.core.errors import ApplicationError
from tests.conftest import requires_postgres
from tests.factories import AppFactory, AppVersionFactory, UserFactory
from versions import services
from versions.constants import VersionStatus
from versions.models import AppVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_review(user):
    return AppVersionFactory(app=AppFactory(owner=user), status=VersionStatus.REVIEW)


def test_a_developer_cannot_approve(user, in_review):
    with pytest.raises(ApplicationError) as exc:
        services.version_review(version=in_review, reviewer=user, decision="approve")
    assert exc.value.code == "FORBIDDEN"
    in_review.refresh_from_db()
    assert in_review.status == VersionStatus.REVIEW


def test_staff_cannot_decide_on_their_own_app(staff_user):
    own = AppVersionFactory(app=AppFactory(owner=staff_user), status=VersionStatus.REVIEW)
    with pytest.raises(ApplicationError) as exc:
        services.version_review(version=own, reviewer=staff_user, decision="approve")
    assert exc.value.code == "FORBIDDEN"


def test_rejection_needs_notes(staff_user, in_review):
    with pytest.raises(ApplicationError) as exc:
        services.version_review(version=in_review, reviewer=staff_user, decision="reject", notes="  ")
    assert exc.value.code == "VALIDATION_ERROR"
    assert "notes" in exc.value.details


def test_rejection_records_notes_and_emails_the_owner(
    user, staff_user, in_review, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.version_review(
            version=in_review, reviewer=staff_user, decision="reject", notes="Crashes on start."
        )
    in_review.refresh_from_db()
    assert in_review.status == VersionStatus.REJECTED
    assert in_review.review_notes == "Crashes on start."
    assert in_review.reviewed_by == staff_user
    assert in_review.reviewed_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    assert "Crashes on start." in mail.outbox[0].body
    event = in_review.events.get(type="version.rejected")
    assert event.actor == staff_user
    assert event.data["notes"] == "Crashes on start."
    # A reviewer's rejection is final for this package: no re-validation.
    with pytest.raises(ApplicationError) as exc:
        services.version_upload_complete(version=in_review, actor=user)
    assert exc.value.code == "CONFLICT"


def test_deciding_twice_is_a_conflict(staff_user, in_review):
    services.version_review(version=in_review, reviewer=staff_user, decision="approve")
    with pytest.raises(ApplicationError) as exc:
        services.version_review(version=in_review, reviewer=staff_user, decision="reject", notes="late")
    assert exc.value.code == "CONFLICT"
    assert "'approved'" in exc.value.message


def test_unknown_decision_is_refused(staff_user, in_review):
    with pytest.raises(ApplicationError) as exc:
        services.version_review(version=in_review, reviewer=staff_user, decision="maybe")
    assert exc.value.code == "VALIDATION_ERROR"


def test_auto_publish_on_approval(settings, staff_user, in_review, django_capture_on_commit_callbacks):
    settings.AUTO_PUBLISH_ON_APPROVAL = True
    with django_capture_on_commit_callbacks(execute=True):
        services.version_review(version=in_review, reviewer=staff_user, decision="approve")
    in_review.refresh_from_db()
    assert in_review.status == VersionStatus.PUBLISHED
    assert in_review.published_at is not None
    assert App.objects.get(pk=in_review.app_id).status == "published"


def test_without_auto_publish_approval_waits_for_the_owner(staff_user, in_review):
    services.version_review(version=in_review, reviewer=staff_user, decision="approve")
    assert in_review.status == VersionStatus.APPROVED
    services.version_publish(version=in_review, actor=in_review.app.owner)
    assert in_review.status == VersionStatus.PUBLISHED


def test_transition_is_the_only_state_machine():
    version = AppVersionFactory(status=VersionStatus.DRAFT)
    with pytest.raises(ApplicationError) as exc:
        services.version_transition(version=version, to=VersionStatus.PUBLISHED)
    assert exc.value.code == "CONFLICT"
    assert exc.value.details == {"status": ["current state is 'draft'"]}
    services.version_transition(version=version, to=VersionStatus.REVIEW)
    with pytest.raises(ApplicationError) as again:  # already there: a 409 too (SPEC §6)
        services.version_transition(version=version, to=VersionStatus.REVIEW)
    assert again.value.details == {"status": ["current state is 'review'"]}
    assert version.events.filter(type="version.submitted").count() == 1


def test_publish_sends_catalog_changed(staff_user, django_capture_on_commit_callbacks):
    from mosis.core.signals import catalog_changed

    seen = []

    def receiver(sender, app_id, reason, **kwargs):
        seen.append((app_id, reason))

    version = AppVersionFactory(status=VersionStatus.APPROVED)
    catalog_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.version_publish(version=version, actor=version.app.owner)
            services.version_yank(version=version, actor=version.app.owner)
    finally:
        catalog_changed.disconnect(receiver)
    assert (version.app_id, "published") in seen
    assert (version.app_id, "yanked") in seen


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_with_one_code_exactly_one_wins():
    app = AppFactory(owner=UserFactory())
    barrier = threading.Barrier(2)
    outcomes = []

    def create():
        try:
            barrier.wait(timeout=10)
            services.version_create(app=app, actor=app.owner, version_name="1.0.0", version_code=1)
            outcomes.append("created")
        except ApplicationError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["CONFLICT", "created"]
    assert AppVersion.objects.filter(app=app).count() == 1


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_unique_constraint_backs_the_rule_in_the_database():
    from django.db import IntegrityError, transaction

    version = AppVersionFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        AppVersion.objects.create(app=version.app, version_name="9.9.9", version_code=version.version_code)


def test_a_fresh_upload_url_only_while_uploading(user):
    uploading = AppVersionFactory(app=AppFactory(owner=user), status=VersionStatus.UPLOADING)
    target = services.version_upload_target(version=uploading)
    assert target.method == "PUT"
    assert "/v1/uploads/" in target.url
    validated = AppVersionFactory(status=VersionStatus.DRAFT)
    with pytest.raises(ApplicationError) as exc:
        services.version_upload_target(version=validated)
    assert exc.value.code == "CONFLICT"
