"""Store background work: the download rollup (beat, every 5 minutes; see migration 0003) and the
debounced catalog rebuild."""

from __future__ import annotations

from celery import shared_task

from .models import DownloadEvent
from .services.cache import store_cache_invalidate
from .services.catalog import catalog_mark_stale
from .services.catalog import catalog_rebuild as catalog_rebuild_service
from .services.downloads import ROLLUP_BATCH, downloads_rollup


def _pending_packages() -> set[str]:
    """Package ids of the events the next rollup will fold (the first ``ROLLUP_BATCH`` pending ones)."""
    ids = DownloadEvent.objects.filter(rolled_up=False).order_by("pk").values("pk")[:ROLLUP_BATCH]
    return set(DownloadEvent.objects.filter(pk__in=ids).values_list("app__package_id", flat=True).distinct())


@shared_task(acks_late=True, time_limit=300, soft_time_limit=270)
def rollup_downloads() -> int:
    """Fold pending download events into daily counts and listing totals (idempotent; safe to overlap).

    Only the packages whose events were folded get their cached reads invalidated (plus every list page,
    since popularity moves); the catalog document is marked stale and rebuilt by the debounced task, so its
    download counts lag by up to ``CATALOG_REBUILD_DEBOUNCE`` seconds. Events that arrive between the
    package snapshot and the fold show on their listing when its entry expires (``STORE_CACHE_TTL``).
    Returns the number of events folded.
    """
    packages = _pending_packages()
    folded = downloads_rollup()
    if folded:
        for package_id in sorted(packages):
            store_cache_invalidate(package_id=package_id)
        catalog_mark_stale()
    return folded


@shared_task(acks_late=True, time_limit=600, soft_time_limit=570)
def catalog_rebuild() -> str:
    """Build the catalog document off the request path and make it the served one; returns its ETag."""
    return catalog_rebuild_service()["etag"]
