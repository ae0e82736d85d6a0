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
from rest_framework.renderers import JSONRenderer

from apps.constants import LISTED_STATUSES, REACHABLE_STATUSES
from apps.models import App
from mosis.core.db import CompiledQuery
from mosis.core.siteurl import request_base, stored_base
from store.catalog.constants import SEARCH_CONFIG
from store.catalog.selectors import listing_row_for_app
from store.catalog.services.search_words import search_words_add
from store.models import AppListing, Review
from versions.constants import VersionStatus
from versions.models import AppVersion

# Bayesian average for sort=rating: score = (C*m + sum) / (C + n). With C=10 and m=3.5 one 5-star review
# scores (35+5)/11 = 3.64 while a thousand 4.8s score ~4.79, so a lone rave never beats a proven app.
RATING_PRIOR_WEIGHT = 10  # C: how many "virtual" reviews the prior is worth
RATING_PRIOR_MEAN = 3.5  # m: the prior mean (a fixed neutral value; a global mean would move every score)


def bayesian_rating(*, rating_sum: int, rating_count: int) -> float:
    return (RATING_PRIOR_WEIGHT * RATING_PRIOR_MEAN + rating_sum) / (RATING_PRIOR_WEIGHT + rating_count)


def render_long_description(text: str) -> str:
    """Markdown source → sanitized HTML, stored on the listing so reads never render it."""
    from store.catalog.serializers import render_long_description as render

    return render(text)


def latest_published_version(app_id) -> AppVersion | None:
    """Newest published, non-yanked version (by version_code)."""
    return (
        AppVersion.objects.filter(app_id=app_id, status=VersionStatus.PUBLISHED, yanked_at__isnull=True)
        .order_by("-version_code")
        .first()
    )


def _search_vector(app: App) -> dict:
    """``{"search_vector": ...}`` for PostgreSQL full-text: name (A) > tags (B) > description (C); nothing
    on SQLite (a no-op column there)."""
    if not settings.IS_POSTGRES:
        return {}
    from django.contrib.postgres.search import SearchVector

    tags = " ".join(str(t) for t in (app.tags or []))
    vector = (
        SearchVector(Value(app.name), weight="A", config=SEARCH_CONFIG)
        + SearchVector(Value(tags), weight="B", config=SEARCH_CONFIG)
        + SearchVector(Value(f"{app.description} {app.long_description}"), weight="C", config=SEARCH_CONFIG)
    )
    return {"search_vector": vector}


# --- the stored listing document ----------------------------------------------------------------------
# ``listing_document`` holds the default listing (no ``mosis_version``) exactly as ``ListingSerializer``
# renders it, figures included: the read sends these bytes. Whatever changes a figure renders it again —
# ``listing_refresh`` (metadata, versions), ``listing_refresh_ratings`` (reviews) and the download rollup
# (``listing_documents_fill(app_ids=...)`` for the listings whose figures moved, in the worker).
_CHANGELOG_COLUMNS = ("app_id", "version_name", "version_code", "published_at", "release_notes", "yanked_at")


def listing_changelog(app_id) -> list[AppVersion]:
    """Every published version of the app (yanked included), newest first: the listing's changelog."""
    return list(
        AppVersion.objects.filter(app_id=app_id, status=VersionStatus.PUBLISHED)
        .order_by("-version_code")
        .only(*_CHANGELOG_COLUMNS)
    )


def render_listing_document(listing: AppListing, changelog: list[AppVersion]) -> str | None:
    """The default listing (``ListingSerializer``, latest version shown) as compact JSON; None for an app
    not reachable by package id (it is never served).

    ``listing`` needs ``app`` and ``category`` loaded, ``latest_version`` set and its figures current.
    """
    from store.catalog.serializers import ListingSerializer

    if listing.app.status not in REACHABLE_STATUSES:
        return None
    listing.shown_version = listing.latest_version
    with request_base(stored_base()):  # one stored document for every host: it names the stored base
        data = ListingSerializer(listing, context={"changelog": changelog}).data
    return JSONRenderer().render(data).decode()


_LISTING_LOOKUP = CompiledQuery(
    lambda package_id: AppListing.objects.filter(
        app__package_id=package_id, app__status__in=REACHABLE_STATUSES
    ).values_list("listing_document")[:1],
    package_id="\x00probe:package_id",
)


def listing_document_for(package_id: str) -> bytes | None:
    """The default listing of the app reachable by ``package_id``: one prepared SELECT of the stored bytes.

    None when there is nothing to serve from the row: unknown or hidden app (same rule as
    ``selectors.listed_app_for_package``), no listing row, or a document not rendered yet.
    """
    if not package_id or len(package_id) > 150 or "\x00" in package_id:
        return None
    row = _LISTING_LOOKUP.fetch_one(package_id=package_id)
    if row is None or row[0] is None:
        return None
    return row[0].encode()


def listing_documents_fill(*, only_missing: bool = True, batch_size: int = 500, app_ids=None) -> int:
    """Render ``listing_document`` for reachable apps' rows in batches: a deploy or dataset backfill
    (``only_missing``), or the listings whose figures the download rollup moved (``app_ids``, every one of
    them rendered again). Returns the number of rows written.

    Each batch is one SELECT of rows (joined), one of their changelogs and one bulk UPDATE. Rows missing
    their rendered HTML get it too.
    """
    pending = (
        AppListing.objects.filter(app__status__in=REACHABLE_STATUSES)
        .select_related("app", "category", "latest_version")
        .defer("search_vector")
        .order_by("pk")
    )
    if app_ids is not None:
        pending = pending.filter(app_id__in=list(app_ids))
    elif only_missing:
        pending = pending.filter(listing_document__isnull=True)
    written, last_pk = 0, None
    while True:
        batch = list((pending.filter(pk__gt=last_pk) if last_pk is not None else pending)[:batch_size])
        if not batch:
            return written
        last_pk = batch[-1].pk
        changelogs: dict = {}
        versions = (
            AppVersion.objects.filter(app_id__in=[row.pk for row in batch], status=VersionStatus.PUBLISHED)
            .order_by("app_id", "-version_code")
            .only(*_CHANGELOG_COLUMNS)
        )
        for version in versions:
            changelogs.setdefault(version.app_id, []).append(version)
        for listing in batch:
            if listing.long_description_html is None:
                listing.long_description_html = render_long_description(listing.app.long_description)
            listing.listing_document = render_listing_document(listing, changelogs.get(listing.pk, []))
        AppListing.objects.bulk_update(batch, ["listing_document", "long_description_html"])
        written += len(batch)
        if len(batch) < batch_size:  # the last one: no query to find out there is nothing more
            return written


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
    changelog = listing_changelog(app.pk)
    fields = {
        "listed": app.status in LISTED_STATUSES and latest is not None,
        "package_id": app.package_id,
        "name": app.name,
        "type": app.type,
        "source": app.source,
        "category_id": app.category_id,
        "author_name": (getattr(owner, "name", "") or "") if owner else "",
        "latest_version": latest,
        "last_published_at": last_published_at,
        "long_description_html": render_long_description(app.long_description),
    }
    listing, _ = AppListing.objects.update_or_create(app=app, defaults=fields)
    # Rendered from the saved row (locked by update_or_create), so the figures in it are the row's own.
    listing.app, listing.category = app, app.category
    listing.listing_document = render_listing_document(listing, changelog)
    AppListing.objects.filter(pk=listing.pk).update(
        listing_document=listing.listing_document, **_search_vector(app)
    )
    if listing.listed:
        search_words_add(name=app.name, tags=app.tags)  # typo correction knows the app's words
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
    before = _rating_figures(listing)
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
    if _rating_figures(listing) != before:
        listing_documents_fill(app_ids=[app_id])  # the document shows the figures: rendered again
    return listing


def _rating_figures(listing: AppListing) -> tuple:
    return (
        listing.rating_count,
        listing.rating_sum,
        *(getattr(listing, f"ratings_{i}") for i in range(1, 6)),
    )


def listing_for_app(*, app: App) -> AppListing:
    """The app's listing row, repaired on the spot (``listing_refresh``) if the read model has not seen the
    app yet."""
    listing = listing_row_for_app(app=app)
    if listing is None:
        listing_refresh(app_id=app.pk)
        listing = listing_row_for_app(app=app)
    listing.app = app
    return listing
