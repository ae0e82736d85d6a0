"""Downloads: the answer a client gets (URL + integrity facts), counting, and the rollup into daily figures.

Counting is once per (client, version, UTC day): client = the device, else the signed-in user, else a
salted SHA-256 of IP + User-Agent (``DOWNLOAD_CLIENT_SALT``), so retries and simple bots do not inflate
figures and no raw IP is stored. Each counted download is one ``DownloadEvent`` insert with
``ON CONFLICT DO NOTHING`` — no shared counter row, so concurrent downloads never serialize. The rollup
turns pending events into ``DownloadDaily`` upserts and recomputes the listing totals with set-based queries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Device
from mosis.core import storage
from store.models import AppListing, DownloadDaily, DownloadEvent
from versions.models import AppVersion

RECENT_DAYS = 7  # downloads_recent = the last 7 UTC days, today included


def package_filename(version: AppVersion | DownloadTarget) -> str:
    package_id = version.package_id if isinstance(version, DownloadTarget) else version.app.package_id
    return f"{package_id}-{version.version_name}.mpk"


def download_url_for(*, version: AppVersion | DownloadTarget) -> str:
    """A URL the client GETs the package from: S3 presigned GET or a signed local ``/v1/files/<token>``."""
    return storage.presigned_download(
        version.package_key, filename=package_filename(version), expires=settings.DOWNLOAD_URL_TTL
    )


def download_info_for(*, version: AppVersion | DownloadTarget, request=None) -> dict:
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

    pk: int
    app_id: int
    package_id: str
    version_name: str
    version_code: int
    package_key: str
    package_size: int | None
    sha256: str
    signature: str
    signing_key_fingerprint: str

    @classmethod
    def of(cls, version: AppVersion, *, package_id: str) -> DownloadTarget:
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


def download_target(*, package_id: str, selector: tuple, build) -> DownloadTarget:
    """The version a download request resolves to, from the store cache or ``build()`` (an AppVersion).

    ``selector`` names the request (``("latest", mosis_num)`` or ``("code", version_code)``). Cached under
    the package's store generations, so publishing, yanking or any app/version status change (each sends
    ``catalog_changed`` → ``store_cache_invalidate``) makes it unreachable at once in the writing process and
    within ``GEN_MEMO_SECONDS`` elsewhere. The presigned URL is never cached: it is made per request.
    ``build`` raising (404) caches nothing.
    """
    from store.services.cache import store_cache_value

    if not package_id or len(package_id) > 150 or "\x00" in package_id:
        return DownloadTarget.of(build(), package_id=package_id)  # build() answers 404: no cache key

    def make():
        return DownloadTarget.of(build(), package_id=package_id)

    return store_cache_value(parts=("download", package_id, selector), build=make, package_id=package_id)


def download_client_hash(request) -> str:
    """Who is downloading, as a stable opaque hash: device, else user, else salted IP + User-Agent."""
    device = getattr(request, "auth", None)
    device_id = device.pk if isinstance(device, Device) else None
    user = getattr(request, "user", None)
    if device_id is not None:
        ident = f"device:{device_id}"
    elif user is not None and user.is_authenticated:
        ident = f"user:{user.pk}"
    else:
        ip = request.META.get("REMOTE_ADDR", "")
        agent = request.META.get("HTTP_USER_AGENT", "")[:512]
        ident = f"anon:{ip}\n{agent}"
    return hashlib.sha256(f"{settings.DOWNLOAD_CLIENT_SALT}\n{ident}".encode()).hexdigest()


def download_record(
    *, version: AppVersion | DownloadTarget, client_hash: str, day: dt.date | None = None
) -> None:
    """Count one download (a no-op if this client already downloaded this version that UTC day).

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


@transaction.atomic
def downloads_rollup(*, today: dt.date | None = None) -> int:
    """Fold pending DownloadEvents into DownloadDaily and refresh listing totals. Returns events folded.

    Idempotent and safe to overlap with downloads and with another rollup: pending rows are claimed with
    ``FOR UPDATE SKIP LOCKED`` on PostgreSQL; each touched (version, day) gets its *absolute* distinct-client
    count upserted (so a retried or concurrent rollup can never double count); then listings whose totals
    can have moved are recomputed set-based. ``today`` fixes the end of the 7-day window (default: UTC today).
    """
    today = today or timezone.now().astimezone(dt.UTC).date()
    pending = DownloadEvent.objects.filter(rolled_up=False).order_by("pk")
    if settings.IS_POSTGRES:
        pending = pending.select_for_update(skip_locked=True)
    ids = list(pending.values_list("pk", flat=True)[:ROLLUP_BATCH])
    touched_apps: set = set()
    if ids:
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
        touched_apps = {row.app_id for row in rows}
        DownloadEvent.objects.filter(pk__in=ids).update(rolled_up=True)
    DownloadEvent.objects.filter(
        rolled_up=True, day__lt=today - dt.timedelta(days=EVENT_RETENTION_DAYS)
    ).delete()
    listing_downloads_recompute(today=today, app_ids=touched_apps)
    return len(ids)


def listing_downloads_recompute(*, today: dt.date, app_ids=None) -> None:
    """Set downloads_total and downloads_recent (last 7 UTC days) with one set-based UPDATE.

    With ``app_ids`` only those listings plus every listing with recent downloads (whose window may have
    moved) are rewritten, so a rollup never touches the long tail of idle apps; None means all listings.
    """
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
    listings.update(
        downloads_total=Coalesce(Subquery(total), 0),
        downloads_recent=Coalesce(Subquery(recent), 0),
    )


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
