"""Downloads: the answer a client gets (URL + integrity facts), counting, and the rollup into daily figures.

Counting is once per (client, version, UTC day): client = the device, else the signed-in user, else a
salted SHA-256 of the client IP (``DOWNLOAD_CLIENT_SALT``; never the User-Agent, which a client can change
on every request), so retries and simple bots do not inflate figures and no raw IP is stored. Two stores, same public results:

- **Redis** (production: the default cache is Redis): a ``SET NX`` dedupe marker and, on first sight, an
  ``HINCRBY`` of the per-day hash of distinct clients per version (``downloads_redis``); a warm download is
  one Redis round trip in all (target lookup + count in one script) and no SQL.
- **Database** (embedded local-memory cache, SQLite dev): one ``DownloadEvent`` insert with ``ON CONFLICT
  DO NOTHING`` — no shared counter row, so concurrent downloads never serialize.

The rollup upserts ``DownloadDaily`` from both (absolute counts, so re-runs never double count) and
recomputes the listing totals with set-based queries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from mosis.core import redis as redis_adapter
from mosis.core import storage
from mosis.core.db import CompiledQuery
from store.downloads import counter as downloads_redis
from store.models import AppListing, DownloadDaily, DownloadEvent
from versions.models import AppVersion

RECENT_DAYS = 7  # downloads_recent = the last 7 UTC days, today included

logger = logging.getLogger("mosis.store.downloads")


def package_filename(version: AppVersion | DownloadTarget) -> str:
    package_id = version.package_id if isinstance(version, DownloadTarget) else version.app.package_id
    return f"{package_id}-{version.version_name}.mpk"


def download_url_for(*, version: AppVersion | DownloadTarget) -> str:
    """A URL the client GETs the package from: S3 presigned GET or a signed local ``/v1/files/<token>``."""
    return storage.presigned_download(
        version.package_key, filename=package_filename(version), expires=settings.DOWNLOAD_URL_TTL
    )


def download_info_for(*, version: AppVersion | DownloadTarget) -> dict:
    """SPEC §5's download answer for ``version`` (an AppVersion's ``app`` should be select_related)."""
    return {
        "download_url": download_url_for(version=version),
        "version": version.version_name,
        "version_code": version.version_code,
        "size": version.package_size or 0,
        "sha256": version.sha256,
        "signature": version.signature or "",
        "signing_key_fingerprint": version.signing_key_fingerprint or "",
    }


@dataclass(frozen=True)
class DownloadTarget:
    """What a download needs of a version, without its heavy columns; cached per package (see below)."""

    pk: uuid.UUID
    app_id: uuid.UUID
    package_id: str
    version_name: str
    version_code: int
    package_key: str
    package_size: int | None
    sha256: str
    signature: str
    signing_key_fingerprint: str

    @classmethod
    def of(cls, version: AppVersion | DownloadTarget, *, package_id: str) -> DownloadTarget:
        if isinstance(version, DownloadTarget):
            return version
        return cls(
            pk=version.pk,
            app_id=version.app_id,
            package_id=package_id,
            version_name=version.version_name,
            version_code=version.version_code,
            package_key=version.package_key,
            package_size=version.package_size,
            sha256=version.sha256,
            signature=version.signature or "",
            signing_key_fingerprint=version.signing_key_fingerprint or "",
        )

    def row(self) -> list:
        """The fields in declaration order (how ``downloads_redis`` stores a target)."""
        return [getattr(self, name) for name in self.__dataclass_fields__]

    @classmethod
    def from_row(cls, row: list) -> DownloadTarget:
        pk, app_id, *rest = row
        return cls(uuid.UUID(str(pk)), uuid.UUID(str(app_id)), *rest)


_TARGET_COLUMNS = (
    "pk",
    "app_id",
    "version_name",
    "version_code",
    "package_key",
    "package_size",
    "sha256",
    "signature",
    "signing_key_fingerprint",
)
_PROBE_PACKAGE = "\x00probe:package_id"
_PROBE_MOSIS = (
    2_147_480_001  # within the (positive) integer columns' range: Django drops out-of-range lookups
)
_PROBE_CODE = 2_147_480_002


def _target_versions(package_id: str, *, mosis_num: int | None = None, version_code: int | None = None):
    from apps.constants import REACHABLE_STATUSES
    from store.catalog.selectors import compatible_filter
    from versions.constants import VersionStatus

    versions = AppVersion.objects.filter(
        app__package_id=package_id, app__status__in=REACHABLE_STATUSES, status=VersionStatus.PUBLISHED
    )
    if version_code is not None:
        versions = versions.filter(version_code=version_code)
    else:
        versions = versions.filter(yanked_at__isnull=True)
        if mosis_num is not None:
            versions = versions.filter(compatible_filter(mosis_num))
    columns = (*_TARGET_COLUMNS, "app__max_mosis_version_override")
    return versions.order_by("-version_code").values_list(*columns)[:1]


# The three shapes of the lookup, each compiled once per process (mosis.core.db).
_TARGET_LATEST = CompiledQuery(_target_versions, package_id=_PROBE_PACKAGE)
_TARGET_COMPATIBLE = CompiledQuery(
    lambda package_id, mosis_num: _target_versions(package_id, mosis_num=mosis_num),
    package_id=_PROBE_PACKAGE,
    mosis_num=_PROBE_MOSIS,
)
_TARGET_BY_CODE = CompiledQuery(
    lambda package_id, version_code: _target_versions(package_id, version_code=version_code),
    package_id=_PROBE_PACKAGE,
    version_code=_PROBE_CODE,
)


def _as_uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))  # SQLite returns text


def download_target_lookup(
    *, package_id: str, mosis_num: int | None = None, version_code: int | None = None
) -> DownloadTarget | None:
    """The download target in one narrow prepared SELECT (a cold download): the newest installable version
    (compatible with ``mosis_num`` when given, the app's staff cap included), or the published version
    ``version_code`` (yanked ones stay downloadable), of the app reachable by ``package_id``.

    None when there is none; the caller then finds out which 404 it is (unknown app or no such version)
    with the selectors, which only a failing request pays for.
    """
    from store.catalog.constants import mosis_cap_number

    if not _valid_package_id(package_id):
        return None
    if version_code is not None:
        if not 1 <= version_code <= 2_147_483_647:
            return None
        row = _TARGET_BY_CODE.fetch_one(package_id=package_id, version_code=version_code)
    elif mosis_num is not None:
        row = _TARGET_COMPATIBLE.fetch_one(package_id=package_id, mosis_num=mosis_num)
    else:
        row = _TARGET_LATEST.fetch_one(package_id=package_id)
    if row is None:
        return None
    *values, cap = row
    if version_code is None and mosis_num is not None:
        cap_num = mosis_cap_number(cap)
        if cap_num is not None and mosis_num > cap_num:
            return None
    target = dict(zip(_TARGET_COLUMNS, values, strict=True))
    target["pk"], target["app_id"] = _as_uuid(target["pk"]), _as_uuid(target["app_id"])
    target["signature"] = target["signature"] or ""
    target["signing_key_fingerprint"] = target["signing_key_fingerprint"] or ""
    return DownloadTarget(package_id=package_id, **target)


def download_target_ttl() -> int:
    """Seconds a resolved download target stays cached (``DOWNLOAD_TARGET_TTL``); 0 (not cached) when the
    store cache is off (``STORE_CACHE_TTL`` = 0)."""
    if settings.STORE_CACHE_TTL <= 0:
        return 0
    return max(settings.DOWNLOAD_TARGET_TTL, 0)


def download_target(*, package_id: str, selector: tuple, build) -> DownloadTarget:
    """The version a download request resolves to, from the store cache or ``build()`` (an AppVersion).

    ``selector`` names the request (``("latest", mosis_num)`` or ``("code", version_code)``). Cached under
    the package's store generations, so publishing, yanking or any app/version status change (each sends
    ``catalog_changed`` → ``store_cache_invalidate``) makes it unreachable at once in the writing process and
    within ``GEN_MEMO_SECONDS`` elsewhere. The presigned URL is never cached: it is made per request.
    ``build`` raising (404) caches nothing.
    """
    from store.catalog.services.cache import store_cache_value

    if not _valid_package_id(package_id):
        return DownloadTarget.of(build(), package_id=package_id)  # build() answers 404: no cache key

    def make():
        return DownloadTarget.of(build(), package_id=package_id)

    return store_cache_value(
        parts=("download", package_id, selector),
        build=make,
        package_id=package_id,
        timeout=download_target_ttl(),
    )


def download_client_hash(*, device_id=None, user_id=None, ip: str = "") -> str:
    """Who is downloading, as a stable opaque hash: the device, else the signed-in user, else the salted client
    IP (never the User-Agent, which a client may change on every request to be counted again)."""
    if device_id is not None:
        return _salted(f"device:{device_id}")
    if user_id is not None:
        return _salted(f"user:{user_id}")
    return _salted(f"anon:{ip}")


def _salted(ident: str) -> str:
    return hashlib.sha256(f"{settings.DOWNLOAD_CLIENT_SALT}\n{ident}".encode()).hexdigest()


def _utc_today() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


def _valid_package_id(package_id: str) -> bool:
    return bool(package_id) and len(package_id) <= 150 and "\x00" not in package_id


def download_resolve(*, package_id: str, selector: tuple, build, client_hash: str) -> DownloadTarget:
    """The version a download request resolves to (see ``download_target``), counted for ``client_hash``.

    Redis: one round trip when the target is cached (lookup and count in one script), two on a miss, no
    SQL either way. Otherwise (or while Redis is unreachable) the target comes from the store cache (or the
    database) and the count is a DownloadEvent insert.
    ``build`` raising (404) counts nothing.
    """
    if redis_adapter.enabled() and _valid_package_id(package_id):
        try:
            row = downloads_redis.resolve_and_count(
                package_id=package_id,
                selector=selector,
                build=lambda: DownloadTarget.of(build(), package_id=package_id).row(),
                client_hash=client_hash,
                day=_utc_today(),
                ttl=download_target_ttl(),
            )
            return DownloadTarget.from_row(row)
        except redis_adapter.UNAVAILABLE:
            # Redis unreachable: the database resolves the target and keeps the count as an event row,
            # which the rollup folds like any other.
            logger.warning("Redis unreachable; counting the download in the database", exc_info=True)
            target = download_target(package_id=package_id, selector=selector, build=build)
            download_record_event(version=target, client_hash=client_hash)
            return target
    target = download_target(package_id=package_id, selector=selector, build=build)
    download_record(version=target, client_hash=client_hash)
    return target


def download_record(
    *, version: AppVersion | DownloadTarget, client_hash: str, day: dt.date | None = None
) -> None:
    """Count one download (a no-op if this client already downloaded this version that UTC day).

    In Redis when the cache is Redis (``downloads_redis.count``), else ``download_record_event``.
    """
    day = day or _utc_today()
    if redis_adapter.enabled():
        downloads_redis.count(version_id=version.pk, app_id=version.app_id, client_hash=client_hash, day=day)
        return
    download_record_event(version=version, client_hash=client_hash, day=day)


def download_record_event(
    *, version: AppVersion | DownloadTarget, client_hash: str, day: dt.date | None = None
) -> None:
    """Count one download as a ``DownloadEvent`` row (the database store; no-op on a repeat).

    On PostgreSQL, when not inside a caller's transaction, the insert is one statement that is its own
    transaction and first sets ``synchronous_commit`` off for that transaction only (``set_config(...,
    true)`` = ``SET LOCAL``), so its commit returns without waiting for the WAL flush: one round trip. The
    trade-off, accepted for a download *count* only: a database crash can lose the last few hundred
    milliseconds of counted downloads (nothing is corrupted; every other transaction keeps synchronous
    commits). Inside a caller's atomic block the setting would apply to the caller's writes too, so the
    insert then runs plainly.
    """
    day = day or timezone.now().astimezone(dt.UTC).date()
    if settings.IS_POSTGRES and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(_RECORD_SQL, [version.pk, version.app_id, day, client_hash, timezone.now()])
        return
    event = DownloadEvent(version_id=version.pk, app_id=version.app_id, day=day, client_hash=client_hash)
    DownloadEvent.objects.bulk_create([event], ignore_conflicts=True)


_RECORD_SQL = (
    "WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)) "
    'INSERT INTO "store_downloadevent" ("version_id", "app_id", "day", "client_hash", "rolled_up", "created_at") '
    "SELECT %s, %s, %s, %s, false, %s FROM relaxed ON CONFLICT DO NOTHING"
)


ROLLUP_BATCH = 50_000
EVENT_RETENTION_DAYS = 2  # rolled-up events older than this are deleted (only today's events ever arrive)


@dataclass(frozen=True)
class Rollup:
    """What a rollup did: downloads newly counted (events folded + Redis counts that grew) and the apps
    whose listing figures moved (their documents rendered again)."""

    downloads: int = 0
    app_ids: frozenset = field(default_factory=frozenset)


def downloads_rollup(*, today: dt.date | None = None) -> int:
    """``downloads_fold`` returning only the number of downloads newly counted."""
    return downloads_fold(today=today).downloads


@transaction.atomic
def downloads_fold(*, today: dt.date | None = None) -> Rollup:
    """Fold new downloads into DownloadDaily and refresh listing totals.

    Two sources, both upserted as *absolute* distinct-client counts per (version, day), so a retried or
    concurrent rollup can never double count:

    - pending DownloadEvents (the database store, and leftovers from before Redis was configured), claimed
      with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL;
    - with Redis, the day hashes of the ``OPEN_DAYS`` days up to ``today`` (today, yesterday — downloads
      counted just before midnight — and one more), upserted with ``count = GREATEST(stored, redis)``: a
      re-run changes nothing, and a Redis restart (hashes lost or restarted from zero) never lowers a figure.

    Then the listings of the apps whose counts moved (plus those with recent downloads, whose window may
    have moved) are recomputed set-based, and the ones whose figures changed rendered again. ``today`` fixes the end of the 7-day window (default: UTC today).
    """
    today = today or _utc_today()
    folded, touched_apps = _fold_events()
    DownloadEvent.objects.filter(
        rolled_up=True, day__lt=today - dt.timedelta(days=EVENT_RETENTION_DAYS)
    ).delete()
    if redis_adapter.enabled():
        grown, redis_apps = _fold_redis_counts(today=today)
        folded += grown
        touched_apps |= redis_apps
    moved = listing_downloads_recompute(today=today, app_ids=touched_apps)
    return Rollup(downloads=folded, app_ids=frozenset(moved))


def _fold_events() -> tuple[int, set]:
    pending = DownloadEvent.objects.filter(rolled_up=False).order_by("pk")
    if settings.IS_POSTGRES:
        pending = pending.select_for_update(skip_locked=True)
    ids = list(pending.values_list("pk", flat=True)[:ROLLUP_BATCH])
    if not ids:
        return 0, set()
    pairs = set(DownloadEvent.objects.filter(pk__in=ids).values_list("version_id", "day").distinct())
    counts = (
        DownloadEvent.objects.filter(version_id__in={v for v, _ in pairs}, day__in={d for _, d in pairs})
        .values_list("version_id", "app_id", "day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    rows = [
        DownloadDaily(version_id=version_id, app_id=app_id, day=day, count=n)
        for version_id, app_id, day, n in counts
        if (version_id, day) in pairs
    ]
    DownloadDaily.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["version", "day"], update_fields=["count"]
    )
    DownloadEvent.objects.filter(pk__in=ids).update(rolled_up=True)
    return len(ids), {row.app_id for row in rows}


UPSERT_BATCH = 500


def _fold_redis_counts(*, today: dt.date) -> tuple[int, set]:
    """Upsert the Redis day counts that exceed the stored ones; (downloads added, apps whose counts grew)."""
    days = [today - dt.timedelta(days=n) for n in range(downloads_redis.OPEN_DAYS)]
    counts = downloads_redis.day_counts(days)
    if not counts:
        return 0, set()
    live = set(  # a version deleted since its download has nothing to count against
        AppVersion.objects.filter(pk__in={v for v, _, _ in counts}).values_list("pk", flat=True)
    )
    stored = {
        (v, d): n
        for v, d, n in DownloadDaily.objects.filter(version_id__in=live, day__in=days).values_list(
            "version_id", "day", "count"
        )
    }
    rows = [(v, a, d, n) for (v, a, d), n in counts.items() if v in live and n > stored.get((v, d), 0)]
    table = connection.ops.quote_name(DownloadDaily._meta.db_table)
    fields = [DownloadDaily._meta.get_field(name) for name in ("version", "app", "day", "count")]
    for start in range(0, len(rows), UPSERT_BATCH):
        batch = rows[start : start + UPSERT_BATCH]
        with connection.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO {table} ("version_id", "app_id", "day", "count") VALUES '  # noqa: S608
                + ", ".join(["(%s, %s, %s, %s)"] * len(batch))
                + ' ON CONFLICT ("version_id", "day") DO UPDATE SET "count" = EXCLUDED."count"'
                + f' WHERE {table}."count" < EXCLUDED."count"',
                [
                    f.get_db_prep_save(value, connection)
                    for row in batch
                    for f, value in zip(fields, row, strict=True)
                ],
            )
    return sum(n - stored.get((v, d), 0) for v, _, d, n in rows), {a for _, a, _, _ in rows}


def listing_downloads_recompute(*, today: dt.date, app_ids=None) -> set:
    """Set downloads_total and downloads_recent (last 7 UTC days) of the listings whose figures moved, and
    render their stored documents again (they show the figures); returns those listings' app ids.

    Candidates: with ``app_ids`` those listings plus every listing with recent downloads (whose window may
    have moved), so a rollup never touches the long tail of idle apps; None means all listings. One SELECT
    finds which candidates' figures differ from their sums, one UPDATE writes only those, and their
    documents are rendered in batches (``listing_documents_fill``).
    """
    from store.catalog.services.listing import listing_documents_fill

    start = today - dt.timedelta(days=RECENT_DAYS - 1)
    listings = AppListing.objects.all()
    if app_ids is not None:
        listings = listings.filter(Q(app_id__in=app_ids) | Q(downloads_recent__gt=0))
    total = (
        DownloadDaily.objects.filter(app_id=OuterRef("app_id"))
        .order_by()
        .values("app_id")
        .annotate(s=Sum("count"))
        .values("s")
    )
    recent = (
        DownloadDaily.objects.filter(app_id=OuterRef("app_id"), day__gte=start, day__lte=today)
        .order_by()
        .values("app_id")
        .annotate(s=Sum("count"))
        .values("s")
    )
    figures = {
        "downloads_total": Coalesce(Subquery(total), 0),
        "downloads_recent": Coalesce(Subquery(recent), 0),
    }
    moved = set(
        listings.annotate(new_total=figures["downloads_total"], new_recent=figures["downloads_recent"])
        .filter(~Q(downloads_total=F("new_total")) | ~Q(downloads_recent=F("new_recent")))
        .values_list("app_id", flat=True)
    )
    if moved:
        AppListing.objects.filter(app_id__in=moved).update(**figures)
        listing_documents_fill(app_ids=moved)
    return moved


@transaction.atomic
def downloads_recount_days(*, start: dt.date, end: dt.date) -> int:
    """Rewrite DownloadDaily for ``start..end`` from the retained DownloadEvents (operators' ``rollup_stats``).

    Days whose events were already pruned (older than ``EVENT_RETENTION_DAYS``) keep their final counts:
    only (version, day) pairs that still have events are rewritten. Returns the number of rows upserted.
    """
    counts = (
        DownloadEvent.objects.filter(day__gte=start, day__lte=end)
        .values_list("version_id", "app_id", "day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    rows = [DownloadDaily(version_id=v, app_id=a, day=d, count=n) for v, a, d, n in counts]
    DownloadDaily.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["version", "day"], update_fields=["count"]
    )
    return len(rows)
