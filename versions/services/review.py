"""Review console services (SPEC §8): claims, internal comments, the console's decision and its email.

``review_decide`` is how the console (review page and bulk actions) and ``manage.py review`` decide: it
checks the claim, then calls ``version_review`` — the state machine's review step — so the policy (staff
only, never on an app one owns), the transition, the audit row and auto-publication stay in one place.
The email to the developer is sent from here, after commit: it quotes the reviewer's notes and links the
version's portal page.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.policies import can_review_version
from mosis.core.errors import ApplicationError, ErrorCode

from ..constants import VersionStatus
from ..models import AppVersion, ReviewClaim, ReviewComment
from .lifecycle import version_review

logger = logging.getLogger("mosis.versions.review")

MAX_COMMENT_LENGTH = 5000


def _forbidden() -> ApplicationError:
    return ApplicationError(
        ErrorCode.FORBIDDEN, "Only staff may review versions, and never a version of an app they own."
    )


def _lock(version: AppVersion) -> AppVersion:
    return AppVersion.objects.select_for_update().select_related("app__owner").get(pk=version.pk)


def _active_claim(version: AppVersion, now: datetime) -> ReviewClaim | None:
    return (
        ReviewClaim.objects.select_related("reviewer")
        .filter(version_id=version.pk, expires_at__gt=now)
        .first()
    )


def claim_conflict(claim: ReviewClaim) -> ApplicationError:
    """The error naming who holds ``claim`` and until when (the console turns it into a confirmation)."""
    holder = claim.reviewer.email
    until = f"{claim.expires_at:%Y-%m-%d %H:%M} UTC"
    return ApplicationError(
        ErrorCode.CONFLICT,
        f"{holder} has claimed this version until {until}.",
        {"claim": [f"held by {holder} until {until}"]},
    )


def review_claim(*, version: AppVersion, reviewer, take_over: bool = False, now=None) -> ReviewClaim:
    """``reviewer`` claims a version in review for ``REVIEW_CLAIM_MINUTES``; claiming one's own claim again
    extends it. A live claim of another reviewer is a 409 CONFLICT naming them, unless ``take_over``.
    FORBIDDEN for anyone who may not review the version. Locks the version row, so two reviewers claiming
    at once get one claim and one conflict."""
    now = now or timezone.now()
    if not can_review_version(reviewer, version):
        raise _forbidden()
    with transaction.atomic():
        locked = _lock(version)
        if locked.status != VersionStatus.REVIEW:
            raise ApplicationError(
                ErrorCode.CONFLICT,
                f"Only a version in review can be claimed: this one is '{locked.status}'.",
                {"status": [f"current state is '{locked.status}'"]},
            )
        current = _active_claim(locked, now)
        if current is not None and current.reviewer_id != reviewer.pk and not take_over:
            raise claim_conflict(current)
        expires_at = now + timedelta(minutes=settings.REVIEW_CLAIM_MINUTES)
        renewing = current is not None and current.reviewer_id == reviewer.pk
        claim, _ = ReviewClaim.objects.update_or_create(
            version=locked,
            defaults={
                "reviewer": reviewer,
                "claimed_at": current.claimed_at if renewing else now,
                "expires_at": expires_at,
            },
        )
    return claim


def review_claim_release(*, version: AppVersion, reviewer) -> bool:
    """Give up ``reviewer``'s own claim on ``version``; True when there was one. Another reviewer's claim is
    left alone (it expires by itself, or is overridden with a confirmation)."""
    deleted, _ = ReviewClaim.objects.filter(version_id=version.pk, reviewer_id=reviewer.pk).delete()
    return bool(deleted)


def review_decide(
    *, version: AppVersion, reviewer, decision: str, notes: str = "", override_claim: bool = False
) -> AppVersion:
    """Approve or reject a version in review, as the console and ``manage.py review`` do.

    FORBIDDEN unless ``reviewer`` may review it; a live claim of another reviewer is a 409 CONFLICT (with
    ``details["claim"]``) unless ``override_claim`` — the reviewer confirmed. Then ``version_review``
    decides (notes required to reject; 409 unless the version is in review), the claim is removed and, after
    commit, the developer is emailed the decision with the notes quoted and a link to the version's portal
    page. ``version`` is updated in place and returned.
    """
    if not can_review_version(reviewer, version):
        raise _forbidden()
    with transaction.atomic():
        locked = _lock(version)
        claim = _active_claim(locked, timezone.now())
        if (
            claim is not None
            and claim.reviewer_id != reviewer.pk
            and not override_claim
            and locked.status == VersionStatus.REVIEW
        ):
            raise claim_conflict(claim)
        version_review(version=version, reviewer=reviewer, decision=decision, notes=notes)
        ReviewClaim.objects.filter(version_id=locked.pk).delete()
    return version


def review_comment_add(*, version: AppVersion, author, body: str) -> ReviewComment:
    """An internal comment on ``version``'s app, for reviewers only (never emailed, never in the API).
    FORBIDDEN for whoever may not review the version; 400 for an empty or too long body."""
    if not can_review_version(author, version):
        raise _forbidden()
    body = (body or "").strip()
    if not body:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR, "The comment is empty.", {"body": ["Write something."]}
        )
    if len(body) > MAX_COMMENT_LENGTH:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            f"Comments may be at most {MAX_COMMENT_LENGTH} characters.",
            {"body": [f"At most {MAX_COMMENT_LENGTH} characters."]},
        )
    return ReviewComment.objects.create(app_id=version.app_id, version=version, author=author, body=body)
