"""Ratings, reviews and the developer's reply (SPEC §5, seed 001).

Rules:

* One review per (user, app): a second ``review_upsert`` by the same user replaces the first (same row, new
  rating/title/body, ``created_at`` moved to now so it sorts as new; the row id stays).
* ``title`` is required when ``body`` is given (seed 001); rating 1..5; title ≤ 200, body ≤ 5000 characters.
* The app's owner may not review their own app (403 ``FORBIDDEN``): a rating is a user's opinion, not the
  developer's; the developer answers with a reply instead.
* One reply per review, only by the app's owner; a second reply replaces the first (the reply is an
  editable answer, not a thread).
* Hidden reviews (staff moderation) are not shown and do not count in the ratings.

Every change recomputes the listing's ratings (``listing_refresh_ratings``) and sends ``catalog_changed``
with reason ``"review"`` after commit, so cached store reads and the catalog document are rebuilt.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.models import App
from mosis.core.errors import ApplicationError, ErrorCode
from mosis.core.signals import send_catalog_changed
from store.community.constants import BODY_MAX, TITLE_MAX
from store.models import Review, ReviewReply
from versions.constants import VersionStatus
from versions.models import AppVersion


def _ratings_changed(*, app_id) -> None:
    from store.catalog.services.listing import listing_refresh_ratings

    listing_refresh_ratings(app_id=app_id)
    send_catalog_changed(app_id=app_id, reason="review")


def review_validate(*, rating, title: str, body: str) -> None:
    """The seed 001 rules, also enforced here so the admin and services cannot store a bad review."""
    errors: dict[str, list[str]] = {}
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        errors["rating"] = ["Must be an integer from 1 to 5."]
    if len(title) > TITLE_MAX:
        errors["title"] = [f"Ensure this field has no more than {TITLE_MAX} characters."]
    if len(body) > BODY_MAX:
        errors["body"] = [f"Ensure this field has no more than {BODY_MAX} characters."]
    if body.strip() and not title.strip():
        errors["title"] = ["A title is required when a review body is given."]
    if errors:
        raise ApplicationError(ErrorCode.VALIDATION_ERROR, next(iter(errors.values()))[0], errors)


def _current_version_name(app: App) -> str:
    return (
        AppVersion.objects.filter(app=app, status=VersionStatus.PUBLISHED, yanked_at__isnull=True)
        .order_by("-version_code")
        .values_list("version_name", flat=True)
        .first()
        or ""
    )


def review_upsert(*, app: App, user, rating: int, title: str = "", body: str = "") -> tuple[Review, bool]:
    """Create the user's review of ``app`` or replace their earlier one. Returns ``(review, created)``."""
    title, body = (title or "").strip(), (body or "").strip()
    review_validate(rating=rating, title=title, body=body)
    if app.owner_id == user.pk:
        raise ApplicationError(ErrorCode.FORBIDDEN, "Developers may not review their own app.")
    values = {
        "rating": rating,
        "title": title,
        "body": body,
        "version_name": _current_version_name(app),
        "created_at": timezone.now(),
    }
    with transaction.atomic():
        try:
            with transaction.atomic():  # savepoint: two first reviews by one user may race
                review, created = Review.objects.update_or_create(app=app, user=user, defaults=values)
        except IntegrityError:
            review, created = Review.objects.update_or_create(app=app, user=user, defaults=values)
        _ratings_changed(app_id=app.pk)
    return review, created


def review_for_app(*, app: App, review_id) -> Review:
    """A visible review of ``app`` or 404 (also for a malformed id)."""
    try:
        return Review.objects.select_related("app").get(pk=review_id, app=app, hidden=False)
    except (Review.DoesNotExist, ValueError, TypeError, DjangoValidationError):
        raise ApplicationError(ErrorCode.NOT_FOUND, "Review not found.")


def review_reply_set(*, review: Review, author, body: str) -> tuple[ReviewReply, bool]:
    """The app owner's reply to ``review``; a second reply replaces the first. Returns ``(reply, created)``."""
    body = (body or "").strip()
    if review.app.owner_id != author.pk:
        raise ApplicationError(ErrorCode.FORBIDDEN, "Only the app's developer may reply to its reviews.")
    if not body:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR, "A reply needs a body.", {"body": ["This field may not be blank."]}
        )
    if len(body) > BODY_MAX:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            f"A reply has at most {BODY_MAX} characters.",
            {"body": [f"Ensure this field has no more than {BODY_MAX} characters."]},
        )
    with transaction.atomic():
        reply, created = ReviewReply.objects.update_or_create(
            review=review, defaults={"author": author, "body": body}
        )
        send_catalog_changed(app_id=review.app_id, reason="review")
    return reply, created


def reviews_visible_for_app(*, app: App) -> QuerySet[Review]:
    """Selector: the public reviews of ``app``, newest first, with author and reply in the same query."""
    return (
        Review.objects.filter(app=app, hidden=False)
        .select_related("user", "reply")
        .order_by("-created_at", "-id")
    )


def reviews_set_hidden(*, reviews: Iterable[Review] | QuerySet[Review], hidden: bool) -> int:
    """Staff moderation: hide or show reviews, then recompute the ratings of every app touched."""
    ids = [r.pk for r in reviews]
    with transaction.atomic():
        changed = list(
            Review.objects.select_for_update()
            .filter(pk__in=ids)
            .exclude(hidden=hidden)
            .values_list("pk", "app_id")
        )
        if not changed:
            return 0
        Review.objects.filter(pk__in=[pk for pk, _ in changed]).update(hidden=hidden)
        for app_id in sorted({app_id for _, app_id in changed}, key=str):
            _ratings_changed(app_id=app_id)
    return len(changed)
