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

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Device
from mosis.core import storage
from store.models import AppListing, DownloadDaily, DownloadEvent
from versions.models import AppVersion

RECENT_DAYS = 7  # downloads_recent = the last 7 UTC days, today included


def package_filename(version: AppVersion) -> str:
    return f"{version.app.package_id}-{version.version_name}.mpk"


def download_url_for(*, version: AppVersion) -> str:
    """A URL the client GETs the package from: S3 presigned GET or a signed local ``/v1/files/<token>``."""
    return storage.presigned_download(
        version.package_key, filename=package_filename(version), expires=settings.DOWNLOAD_URL_TTL
    )


def download_info_for(*, version: AppVersion, request=None) -> dict:
    """SPEC §5's download answer for ``version`` (``version.app`` should be select_related)."""
    return {
        "download_url": download_url_for(version=version),
        "version": version.version_name,
        "version_code": version.version_code,
        "size": version.package_size or 0,
        "sha256": version.sha256,
        "signature": version.signature or "",
        "signing_key_fingerprint": version.signing_key_fingerprint or "",
    }


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


def download_record(*, version: AppVersion, client_hash: str, day: dt.date | None = None) -> None:
    """Count one download (a no-op if this client already downloaded this version that UTC day)."""
    day = day or timezone.now().astimezone(dt.UTC).date()
    DownloadEvent.objects.bulk_create(
        [DownloadEvent(version_id=version.pk, app_id=version.app_id, day=day, client_hash=client_hash)],
        ignore_conflicts=True,
    )


@transaction.atomic
def downloads_rollup(*, today: dt.date | None = None) -> int:
    """Fold pending DownloadEvents into DownloadDaily and recompute listing totals. Returns events folded.

    Idempotent and safe to run concurrently with downloads: the pending rows are locked (skipping rows
    another rollup holds on PostgreSQL), counted per (version, day), added to DownloadDaily with upserts,
    and marked rolled up. ``today`` fixes the end of the 7-day window (tests pass it; default: UTC today).
    """
    today = today or timezone.now().astimezone(dt.UTC).date()
    pending = DownloadEvent.objects.filter(rolled_up=False)
    if settings.IS_POSTGRES:
        pending = pending.select_for_update(skip_locked=True)
    ids = list(pending.values_list("pk", flat=True)[:50_000])
    if ids:
        groups = (
            DownloadEvent.objects.filter(pk__in=ids)
            .values("version_id", "app_id", "day")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for group in groups:
            daily, created = DownloadDaily.objects.get_or_create(
                version_id=group["version_id"],
                day=group["day"],
                defaults={"app_id": group["app_id"], "count": group["n"]},
            )
            if not created:
                DownloadDaily.objects.filter(pk=daily.pk).update(count=F("count") + group["n"])
        DownloadEvent.objects.filter(pk__in=ids).update(rolled_up=True)
    listing_downloads_recompute(today=today)
    return len(ids)


def listing_downloads_recompute(*, today: dt.date, app_ids=None) -> None:
    """Set every listing's downloads_total and downloads_recent (last 7 UTC days) in two UPDATE statements."""
    start = today - dt.timedelta(days=RECENT_DAYS - 1)
    listings = AppListing.objects.all() if app_ids is None else AppListing.objects.filter(app_id__in=app_ids)
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
