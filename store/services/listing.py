"""The AppListing read model: one denormalised row per app, recomputed from App + versions + reviews.

Public reads (browse, search, listing, catalog) never aggregate on the fly; these services keep the row
current and are called by the ``catalog_changed`` receiver (``store.signals``), by review services and by
the download rollup.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum, Value
from django.utils import timezone

from apps.constants import LISTED_STATUSES
from apps.models import App
from store.models import AppListing, Review
from versions.constants import VersionStatus, mosis_version_number
from versions.models import AppVersion

# Bayesian average for sort=rating: score = (C*m + sum) / (C + n). With C=10 and m=3.5 one 5-star review
# scores (35+5)/11 = 3.64 while a thousand 4.8s score ~4.79, so a lone rave never beats a proven app.
SEARCH_CONFIG = "english"  # one text-search configuration for the vector and the query, so stems agree
RATING_PRIOR_WEIGHT = 10  # C: how many "virtual" reviews the prior is worth
RATING_PRIOR_MEAN = 3.5  # m: the prior mean (a fixed neutral value; a global mean would move every score)


def bayesian_rating(*, rating_sum: int, rating_count: int) -> float:
    return (RATING_PRIOR_WEIGHT * RATING_PRIOR_MEAN + rating_sum) / (RATING_PRIOR_WEIGHT + rating_count)


def mosis_cap_number(value: str) -> int | None:
    """The app's staff-set ``max_mosis_version_override`` as a number (None when unset or unparsable)."""
    try:
        return mosis_version_number(value or None)
    except ValueError:
        return None


def render_long_description(text: str) -> str:
    """Markdown source → sanitized HTML, stored on the listing so reads never render it."""
    from store.serializers_catalog import render_long_description as render

    return render(text)


def latest_published_version(app_id) -> AppVersion | None:
    """Newest published, non-yanked version (by version_code)."""
    return (
        AppVersion.objects.filter(app_id=app_id, status=VersionStatus.PUBLISHED, yanked_at__isnull=True)
        .order_by("-version_code")
        .first()
    )


def _set_search_vector(listing: AppListing, app: App) -> None:
    """PostgreSQL full-text: name (A) > tags (B) > description (C). A no-op column on SQLite."""
    if not settings.IS_POSTGRES:
        return
    from django.contrib.postgres.search import SearchVector

    tags = " ".join(str(t) for t in (app.tags or []))
    vector = (
        SearchVector(Value(app.name), weight="A", config=SEARCH_CONFIG)
        + SearchVector(Value(tags), weight="B", config=SEARCH_CONFIG)
        + SearchVector(Value(f"{app.description} {app.long_description}"), weight="C", config=SEARCH_CONFIG)
    )
    AppListing.objects.filter(pk=listing.pk).update(search_vector=vector)


@transaction.atomic
def listing_refresh(*, app_id) -> AppListing | None:
    """Recompute the app's AppListing row (listed flag, latest version, denormalised fields, search vector).

    Idempotent; safe to call any number of times. Returns None (and deletes any stale row) if the app is gone.
    Download and rating columns are kept: they are maintained by the rollup and ``listing_refresh_ratings``.
    """
    app = App.objects.select_related("owner", "category").filter(pk=app_id).first()
    if app is None:
        AppListing.objects.filter(app_id=app_id).delete()
        return None
    latest = latest_published_version(app.pk)
    last_published_at = (
        AppVersion.objects.filter(app_id=app.pk, status=VersionStatus.PUBLISHED)
        .order_by("-published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    owner = app.owner
    fields = {
        "listed": app.status in LISTED_STATUSES and latest is not None,
        "package_id": app.package_id,
        "name": app.name,
        "type": app.type,
        "category_id": app.category_id,
        "author_name": (getattr(owner, "name", "") or "") if owner else "",
        "latest_version": latest,
        "last_published_at": last_published_at,
        "long_description_html": render_long_description(app.long_description),
    }
    listing, _ = AppListing.objects.update_or_create(app=app, defaults=fields)
    _set_search_vector(listing, app)
    return listing


@transaction.atomic
def listing_refresh_ratings(*, app_id) -> AppListing | None:
    """Recompute rating_count/sum, ratings_1..5 and the Bayesian rating_score from visible reviews."""
    listing = AppListing.objects.select_for_update().filter(app_id=app_id).first()
    if listing is None:
        listing = listing_refresh(app_id=app_id)
        if listing is None:
            return None
    agg = Review.objects.filter(app_id=app_id, hidden=False).aggregate(
        n=Count("id"),
        total=Sum("rating"),
        **{f"r{i}": Count("id", filter=Q(rating=i)) for i in range(1, 6)},
    )
    listing.rating_count = agg["n"] or 0
    listing.rating_sum = agg["total"] or 0
    for i in range(1, 6):
        setattr(listing, f"ratings_{i}", agg[f"r{i}"] or 0)
    listing.rating_score = bayesian_rating(rating_sum=listing.rating_sum, rating_count=listing.rating_count)
    listing.updated_at = timezone.now()
    listing.save(
        update_fields=[
            "rating_count",
            "rating_sum",
            "ratings_1",
            "ratings_2",
            "ratings_3",
            "ratings_4",
            "ratings_5",
            "rating_score",
            "updated_at",
        ]
    )
    return listing
