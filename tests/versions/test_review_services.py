"""Review console services: claims with expiry, the console's decision (claim confirmation, email), comments."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from apps.models import ActivityEvent
from mosis.core.errors import ApplicationError, ErrorCode
from tests.factories import AppFactory, AppVersionFactory, UserFactory
from versions.constants import VersionStatus
from versions.models import ReviewClaim, ReviewComment
from versions.services import (
    review_claim,
    review_claim_release,
    review_comment_add,
    review_decide,
    version_portal_url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_review(user):
    return AppVersionFactory(
        app=AppFactory(owner=user), status=VersionStatus.REVIEW, submitted_at=timezone.now()
    )


@pytest.fixture
def colleague(db):
    return UserFactory(is_staff=True, email="colleague@mosis.dev")


def test_a_claim_lasts_the_configured_minutes(in_review, staff_user, settings):
    settings.REVIEW_CLAIM_MINUTES = 25
    now = timezone.now()
    claim = review_claim(version=in_review, reviewer=staff_user, now=now)
    assert (claim.reviewer, claim.claimed_at, claim.expires_at) == (
        staff_user,
        now,
        now + timedelta(minutes=25),
    )


def test_claiming_again_extends_ones_own_claim(in_review, staff_user):
    start = timezone.now()
    review_claim(version=in_review, reviewer=staff_user, now=start)
    later = start + timedelta(minutes=30)
    claim = review_claim(version=in_review, reviewer=staff_user, now=later)
    assert claim.claimed_at == start
    assert claim.expires_at > later
    assert ReviewClaim.objects.count() == 1


def test_another_reviewers_live_claim_is_a_conflict_naming_them(in_review, staff_user, colleague):
    review_claim(version=in_review, reviewer=colleague)
    with pytest.raises(ApplicationError) as exc:
        review_claim(version=in_review, reviewer=staff_user)
    assert exc.value.code == ErrorCode.CONFLICT
    assert "colleague@mosis.dev" in exc.value.message
    assert "claim" in exc.value.details
    taken = review_claim(version=in_review, reviewer=staff_user, take_over=True)
    assert taken.reviewer == staff_user


def test_an_expired_claim_is_no_claim(in_review, staff_user, colleague, settings):
    settings.REVIEW_CLAIM_MINUTES = 10
    review_claim(version=in_review, reviewer=colleague, now=timezone.now() - timedelta(minutes=11))
    claim = review_claim(version=in_review, reviewer=staff_user)
    assert claim.reviewer == staff_user


def test_only_staff_who_do_not_own_the_app_may_claim(in_review, user):
    with pytest.raises(ApplicationError) as exc:
        review_claim(version=in_review, reviewer=user)
    assert exc.value.code == ErrorCode.FORBIDDEN
    owner_staff = UserFactory(is_staff=True)
    own = AppVersionFactory(app=AppFactory(owner=owner_staff), status=VersionStatus.REVIEW)
    with pytest.raises(ApplicationError) as exc:
        review_claim(version=own, reviewer=owner_staff)
    assert exc.value.code == ErrorCode.FORBIDDEN


def test_only_a_version_in_review_can_be_claimed(staff_user):
    draft = AppVersionFactory(status=VersionStatus.DRAFT)
    with pytest.raises(ApplicationError) as exc:
        review_claim(version=draft, reviewer=staff_user)
    assert exc.value.code == ErrorCode.CONFLICT
    assert "'draft'" in exc.value.message


def test_release_removes_only_ones_own_claim(in_review, staff_user, colleague):
    review_claim(version=in_review, reviewer=colleague)
    assert review_claim_release(version=in_review, reviewer=staff_user) is False
    assert ReviewClaim.objects.filter(version=in_review).exists()
    assert review_claim_release(version=in_review, reviewer=colleague) is True
    assert not ReviewClaim.objects.filter(version=in_review).exists()


def test_deciding_on_another_reviewers_claim_needs_the_confirmation(in_review, staff_user, colleague):
    review_claim(version=in_review, reviewer=colleague)
    with pytest.raises(ApplicationError) as exc:
        review_decide(version=in_review, reviewer=staff_user, decision="approve")
    assert exc.value.code == ErrorCode.CONFLICT and "claim" in exc.value.details
    in_review.refresh_from_db()
    assert in_review.status == VersionStatus.REVIEW
    review_decide(version=in_review, reviewer=staff_user, decision="approve", override_claim=True)
    assert in_review.status == VersionStatus.APPROVED
    assert not ReviewClaim.objects.filter(version=in_review).exists()


def test_deciding_on_ones_own_claim_needs_no_confirmation_and_releases_it(in_review, staff_user):
    review_claim(version=in_review, reviewer=staff_user)
    review_decide(version=in_review, reviewer=staff_user, decision="reject", notes="Crashes on start.")
    assert (in_review.status, in_review.review_notes) == (VersionStatus.REJECTED, "Crashes on start.")
    assert not ReviewClaim.objects.exists()


def test_the_decision_rules_of_version_review_still_hold(in_review, staff_user, user):
    with pytest.raises(ApplicationError) as exc:
        review_decide(version=in_review, reviewer=user, decision="approve")
    assert exc.value.code == ErrorCode.FORBIDDEN
    with pytest.raises(ApplicationError) as exc:
        review_decide(version=in_review, reviewer=staff_user, decision="reject", notes=" ")
    assert exc.value.code == ErrorCode.VALIDATION_ERROR
    review_decide(version=in_review, reviewer=staff_user, decision="approve")
    with pytest.raises(ApplicationError) as exc:
        review_decide(version=in_review, reviewer=staff_user, decision="reject", notes="late")
    assert exc.value.code == ErrorCode.CONFLICT


def test_the_decision_email_quotes_the_notes_and_links_the_portal_page(
    in_review, staff_user, user, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://store.example.com"
    settings.SITE_NAME = "Acme Apps"  # the operator's store name, never ours
    with django_capture_on_commit_callbacks(execute=True):
        review_decide(
            version=in_review,
            reviewer=staff_user,
            decision="reject",
            notes="The camera is not explained.\nSay why in the description.",
        )
    [message] = mail.outbox
    assert message.to == [user.email]
    assert message.subject == f"[Acme Apps] {in_review.app.package_id} {in_review.version_name} rejected"
    assert "> The camera is not explained.\n> Say why in the description.\n" in message.body
    url = f"https://store.example.com/portal/apps/{in_review.app_id}/versions/{in_review.pk}/"
    assert url in message.body
    assert version_portal_url(in_review) == url
    assert "higher version_code" in message.body


def test_an_approval_email_says_how_to_publish(in_review, staff_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        review_decide(version=in_review, reviewer=staff_user, decision="approve")
    [message] = mail.outbox
    assert message.subject.endswith(" approved")
    assert "You can publish it from that page" in message.body
    assert "The reviewer wrote" not in message.body


def test_an_approval_with_auto_publish_says_it_is_published(
    in_review, staff_user, settings, django_capture_on_commit_callbacks
):
    settings.AUTO_PUBLISH_ON_APPROVAL = True
    with django_capture_on_commit_callbacks(execute=True):
        review_decide(version=in_review, reviewer=staff_user, decision="approve", notes="Nice.")
    assert in_review.status == VersionStatus.PUBLISHED
    assert "It is published" in mail.outbox[0].body


def test_a_mail_outage_does_not_undo_the_decision(
    in_review, staff_user, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.versions.test_review_services.BrokenBackend"
    with django_capture_on_commit_callbacks(execute=True):
        review_decide(version=in_review, reviewer=staff_user, decision="approve")
    in_review.refresh_from_db()
    assert in_review.status == VersionStatus.APPROVED


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("SMTP is down")


def test_comments_are_internal_and_bounded(in_review, staff_user, user, auth_client):
    comment = review_comment_add(version=in_review, author=staff_user, body="  Check the ads SDK.  ")
    assert (comment.body, comment.app_id, comment.version) == (
        "Check the ads SDK.",
        in_review.app_id,
        in_review,
    )
    with pytest.raises(ApplicationError) as exc:
        review_comment_add(version=in_review, author=staff_user, body="   ")
    assert exc.value.code == ErrorCode.VALIDATION_ERROR
    with pytest.raises(ApplicationError) as exc:
        review_comment_add(version=in_review, author=staff_user, body="x" * 5001)
    assert exc.value.code == ErrorCode.VALIDATION_ERROR
    with pytest.raises(ApplicationError) as exc:
        review_comment_add(version=in_review, author=user, body="I am the owner")
    assert exc.value.code == ErrorCode.FORBIDDEN
    # Never part of the developer's activity feed.
    assert not ActivityEvent.objects.filter(data__icontains="ads SDK").exists()
    feed = auth_client.get("/v1/events").content.decode()
    assert "ads SDK" not in feed
    assert ReviewComment.objects.count() == 1
