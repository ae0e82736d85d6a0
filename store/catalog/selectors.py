"""Public store reads: querysets with their joins designed up front (STYLE §6)."""

from __future__ import annotations

import re

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from apps.constants import REACHABLE_STATUSES, AppStatus
from apps.models import App, Category
from mosis.core.errors import ApplicationError, ErrorCode
from mosis.core.pagination import DEFAULT_LIMIT
from store.models import AppListing, SearchWord
from versions.constants import VersionStatus
from versions.models import AppVersion

from .constants import SEARCH_CONFIG, mosis_cap_number


def published_versions(*, app) -> QuerySet[AppVersion]:
    """Every published version of ``app`` (yanked included), newest first."""
    return AppVersion.objects.filter(app=app, status=VersionStatus.PUBLISHED).order_by("-version_code")


def compatible_filter(mosis_num: int, prefix: str = "") -> Q:
    """Versions whose [min, max] Mosis range contains ``mosis_num`` (a null bound is open)."""
    return (
        Q(**{f"{prefix}min_mosis_num__isnull": True}) | Q(**{f"{prefix}min_mosis_num__lte": mosis_num})
    ) & (Q(**{f"{prefix}max_mosis_num__isnull": True}) | Q(**{f"{prefix}max_mosis_num__gte": mosis_num}))


def installable_versions(*, app, mosis_num: int | None = None) -> QuerySet[AppVersion]:
    """Published, non-yanked versions, compatible with ``mosis_num`` when given (app cap included), newest first."""
    qs = AppVersion.objects.filter(app=app, status=VersionStatus.PUBLISHED, yanked_at__isnull=True)
    if mosis_num is not None:
        cap = mosis_cap_number(app.max_mosis_version_override)
        if cap is not None and mosis_num > cap:
            return qs.none()
        qs = qs.filter(compatible_filter(mosis_num))
    return qs.order_by("-version_code")


def latest_compatible_version(*, app, mosis_version: int | str | None) -> AppVersion | None:
    """Newest published, non-yanked version of ``app`` compatible with ``mosis_version``.

    ``mosis_version`` may be a version string ("1.4"), its number (``mosis_version_number``) or None (any).
    The app's staff-set ``max_mosis_version_override`` caps compatibility. Raises ValueError on a bad string.
    """
    from versions.constants import mosis_version_number

    num = mosis_version_number(mosis_version) if isinstance(mosis_version, str) else mosis_version
    return installable_versions(app=app, mosis_num=num).select_related("signing_key").first()


def listed_app_for_package(package_id: str) -> App:
    """The app reachable by package id (``published`` or ``unlisted``); 404 ``NOT_FOUND`` otherwise."""
    if not package_id or len(package_id) > 150 or "\x00" in package_id:  # PostgreSQL refuses NUL in text
        raise ApplicationError(ErrorCode.NOT_FOUND, "App not found.")
    app = (
        App.objects.select_related("category", "owner")
        .filter(package_id=package_id, status__in=REACHABLE_STATUSES)
        .first()
    )
    if app is None:
        raise ApplicationError(ErrorCode.NOT_FOUND, "App not found.")
    return app


# --- browse / search ----------------------------------------------------------------------------------
SORTS = ("popular", "recent", "name", "rating", "relevance")
_ORDER = {
    "popular": ("-downloads_recent", "-downloads_total", "package_id"),
    "recent": (F("last_published_at").desc(nulls_last=True), "package_id"),
    "name": ("name", "package_id"),
    "rating": ("-rating_score", "-rating_count", "package_id"),
}
# Browse and search reach their first BROWSE_MAX_DEPTH rows: the total is counted up to there (a LIMIT'ed
# subquery, never every match) and a page that starts beyond is a 400 (docs/api/store.md "Totals and depth").
BROWSE_MAX_DEPTH = 1_000
TRIGRAM_MIN_SIMILARITY = 0.3  # pg_trgm's default threshold for the % operator the GiST index serves

# The vocabulary's words: runs of letters and digits, lower-cased, 3 to 40 characters, not only digits.
_WORD = re.compile(r"[^\W_]+")
WORD_MIN_LENGTH, WORD_MAX_LENGTH = 3, 40
MAX_CORRECTED_WORDS = 5  # one nearest-word lookup each; longer queries keep their other words as typed
_NEAREST_CANDIDATES = 5


def listed_listings() -> QuerySet[AppListing]:
    """Listed apps (published, with a published non-yanked version), joined for the PublicApp shape."""
    return AppListing.objects.filter(listed=True).select_related("app", "category", "latest_version")


def _has_a_page(qs: QuerySet[AppListing]) -> bool:
    """At least a default page of rows: one LIMIT query that stops at the page's last row."""
    return len(qs.order_by().values_list("pk", flat=True)[:DEFAULT_LIMIT]) >= DEFAULT_LIMIT


def _is_vocabulary_word(word: str) -> bool:
    return WORD_MIN_LENGTH <= len(word) <= WORD_MAX_LENGTH and not word.isdigit()


def vocabulary_words(*texts: str) -> set[str]:
    """The vocabulary words in ``texts`` (see ``SearchWord``)."""
    return {w for text in texts for w in _WORD.findall(text.lower()) if _is_vocabulary_word(w)}


def corrected_search_text(q: str) -> str | None:
    """``q`` with each word the vocabulary does not know replaced by its nearest known word (pg_trgm
    similarity ≥ 0.3, then the word more apps use), or None when no word changed. PostgreSQL only.

    Reads the small ``SearchWord`` table alone: one lookup of the query's words, then per unknown word the
    nearest few through the GiST trigram index (``word % q ORDER BY word <-> q LIMIT 5``), never the listings.
    """
    from django.contrib.postgres.search import TrigramDistance

    words = vocabulary_words(q)
    if not words:
        return None
    known = set(SearchWord.objects.filter(word__in=words).values_list("word", flat=True))
    replacements = {}
    for word in sorted(words - known)[:MAX_CORRECTED_WORDS]:
        nearest = (
            SearchWord.objects.filter(word__trigram_similar=word)
            .annotate(distance=TrigramDistance("word", word))
            .order_by("distance")
            .values_list("word", "distance", "apps")[:_NEAREST_CANDIDATES]
        )
        best = min(nearest, key=lambda row: (round(row[1], 3), -row[2], row[0]), default=None)
        if best is not None:
            replacements[word] = best[0]
    if not replacements:
        return None
    return _WORD.sub(lambda m: replacements.get(m.group(0).lower(), m.group(0)), q)


def _search(qs: QuerySet[AppListing], q: str) -> QuerySet[AppListing]:
    """Filter by ``q`` and annotate ``exact`` (exact name / package id first) and ``score`` (relevance)."""
    needle = q.strip()
    lowered = needle.lower()
    exact = Case(
        When(Q(package_id=lowered) | Q(name__iexact=needle), then=Value(2)),
        When(name__istartswith=needle, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    if settings.IS_POSTGRES:
        from django.contrib.postgres.search import SearchQuery, SearchRank

        query = SearchQuery(needle, search_type="websearch", config=SEARCH_CONFIG)
        # Full text (GIN on search_vector) or the exact package id (its unique index). The vector (~0.7 kB
        # a row) is only read by ts_rank: not selecting it keeps the rows sorted for the page narrow enough
        # to sort in memory (11 766 matches for a common word).
        qs = qs.defer("search_vector")
        full_text = qs.filter(Q(search_vector=query) | Q(package_id=lowered))
        if not _has_a_page(full_text):
            # Less than a page: perhaps a typo. Unknown words are corrected from the vocabulary (never a
            # trigram scan of the listings) and the corrected text joins the query: still one GIN lookup.
            corrected = corrected_search_text(needle)
            if corrected is not None:
                query = query | SearchQuery(corrected, search_type="websearch", config=SEARCH_CONFIG)
                full_text = qs.filter(Q(search_vector=query) | Q(package_id=lowered))
        return full_text.annotate(exact=exact, score=SearchRank(F("search_vector"), query))
    # SQLite fallback (documented in docs/api/store.md): substring match, exact and prefix matches first.
    return qs.filter(
        Q(name__icontains=needle)
        | Q(package_id__icontains=lowered)
        | Q(app__description__icontains=needle)
        | Q(app__tags__icontains=needle)
    ).annotate(exact=exact, score=Value(0.0, output_field=FloatField()))


def _excluded_by_cap(mosis_num: int) -> list:
    """Apps whose staff-set max Mosis version is below ``mosis_num`` (few apps have one: one small query)."""
    capped = App.objects.exclude(max_mosis_version_override="").values_list(
        "pk", "max_mosis_version_override"
    )
    return [pk for pk, cap in capped if (n := mosis_cap_number(cap)) is not None and mosis_num > n]


def newest_compatible_version_id(mosis_num: int, app_ref: str = "app_id"):
    return Subquery(
        AppVersion.objects.filter(
            compatible_filter(mosis_num),
            app_id=OuterRef(app_ref),
            status=VersionStatus.PUBLISHED,
            yanked_at__isnull=True,
        )
        .order_by("-version_code")
        .values("pk")[:1]
    )


def store_browse(
    *,
    q: str = "",
    category: str = "",
    type: str = "",
    source: str = "",
    sort: str = "",
    mosis_num: int | None = None,
) -> QuerySet[AppListing]:
    """Listed apps filtered and ordered for ``GET /v1/store/apps``.

    With ``mosis_num`` only apps with a compatible version remain and each row gets ``compatible_version_id``
    (the newest compatible version; attach it with ``attach_shown_versions``). ``sort`` defaults to
    ``relevance`` when ``q`` is given, else ``popular``.
    """
    qs = listed_listings()
    if category:
        qs = qs.filter(category__slug=category)
    if type:
        qs = qs.filter(type=type)
    if source:
        qs = qs.filter(source=source)
    if mosis_num is not None:
        qs = qs.annotate(compatible_version_id=newest_compatible_version_id(mosis_num)).filter(
            compatible_version_id__isnull=False
        )
        excluded = _excluded_by_cap(mosis_num)
        if excluded:
            qs = qs.exclude(app_id__in=excluded)
    sort = sort or ("relevance" if q else "popular")
    if q:
        qs = _search(qs, q)
        if sort == "relevance":
            return qs.order_by("-exact", "-score", "-downloads_recent", "package_id")
    if sort == "relevance":
        sort = "popular"
    return qs.order_by(*_ORDER[sort])


class BrowseResults:
    """A browse queryset as ``StandardPagination`` and Django's ``Paginator`` read it (``count()`` and slices),
    with a bounded total and narrow pages.

    ``count()`` counts at most ``BROWSE_MAX_DEPTH`` rows (``SELECT COUNT(*) FROM (... LIMIT 1001)``: stops at
    the 1 001st match instead of counting every one); ``total_exact`` tells whether that was all of them.
    Slices end at ``BROWSE_MAX_DEPTH``. A slice selects the page's primary keys in a subquery (only the sort
    keys are sorted or skipped, not whole rows with their joins) and fetches those rows in the same query:
    for a common search word the page went from 57 to 27 ms, for browse page 50 from 67 to 12 ms
    (docs/performance.md).
    """

    max_depth = BROWSE_MAX_DEPTH

    def __init__(self, queryset: QuerySet[AppListing]):
        self.queryset = queryset
        self.total_exact = True

    def count(self) -> int:
        found = self.queryset.order_by().values("pk")[: self.max_depth + 1].count()
        self.total_exact = found <= self.max_depth
        return min(found, self.max_depth)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice) -> list[AppListing]:
        if not isinstance(item, slice):
            raise TypeError("BrowseResults supports slices only")
        start, stop = (
            item.start or 0,
            min(item.stop if item.stop is not None else self.max_depth, self.max_depth),
        )
        if start >= stop:
            return []
        page_ids = self.queryset.values("pk")[start:stop]
        return list(self.queryset.filter(pk__in=Subquery(page_ids)))


def store_browse_results(*, queryset: QuerySet[AppListing]) -> BrowseResults:
    """``queryset`` (from ``store_browse``) paginated with a bounded total and narrow pages (``BrowseResults``)."""
    return BrowseResults(queryset)


def attach_shown_versions(listings: list[AppListing]) -> list[AppListing]:
    """Set ``shown_version`` on each row: the newest compatible version when browsing by Mosis version
    (fetched in one query), else the listing's latest version."""
    wanted = [getattr(item, "compatible_version_id", None) for item in listings]
    ids = [pk for pk in wanted if pk is not None]
    found = AppVersion.objects.in_bulk(ids) if ids else {}
    for item, pk in zip(listings, wanted, strict=True):
        item.shown_version = found.get(pk) if pk is not None else item.latest_version
    return listings


def store_categories() -> QuerySet[Category]:
    """Every category with ``app_count`` = its listed apps."""
    return Category.objects.annotate(
        app_count=Count("applisting", filter=Q(applisting__listed=True))
    ).order_by("position", "name")


# --- listing / versions / catalog --------------------------------------------------------------------
def listing_row_for_app(*, app: App) -> AppListing | None:
    """The app's listing row with its category and latest version joined; None if the read model has not
    seen the app yet (``store.catalog.services.listing.listing_for_app`` repairs that)."""
    return AppListing.objects.select_related("category", "latest_version").filter(app=app).first()


def version_for_download(*, app: App, version_code: int) -> AppVersion:
    """A published version by code (yanked ones stay downloadable); 404 otherwise."""
    if not 1 <= version_code <= 2_147_483_647:
        raise ApplicationError(ErrorCode.NOT_FOUND, "Version not found.")
    version = published_versions(app=app).filter(version_code=version_code).first()
    if version is None:
        raise ApplicationError(ErrorCode.NOT_FOUND, "Version not found.")
    version.app = app
    return version


def catalog_listings() -> QuerySet[AppListing]:
    """The catalog document's rows: listed apps plus disabled ones (devices and editors turn those off),
    each with its installable versions prefetched in one query."""
    installable = AppVersion.objects.filter(status=VersionStatus.PUBLISHED, yanked_at__isnull=True).order_by(
        "-version_code"
    )
    return (
        AppListing.objects.filter(
            Q(listed=True) | Q(app__status=AppStatus.DISABLED, latest_version__isnull=False)
        )
        .select_related("app", "category", "latest_version")
        .prefetch_related(Prefetch("app__versions", queryset=installable, to_attr="installable_versions"))
        .order_by("package_id")
    )
