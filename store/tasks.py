"""Store background work: the download rollup (beat, every 5 minutes; see migration 0003) and the catalog
document's builds (debounced after changes, or one for a base that has none yet)."""

from __future__ import annotations

from celery import shared_task

from store.catalog.services.cache import store_cache_invalidate_figures
from store.catalog.services.document import catalog_mark_stale
from store.catalog.services.document import catalog_rebuild as catalog_rebuild_service
from store.downloads.services import downloads_fold


@shared_task(acks_late=True, time_limit=300, soft_time_limit=270)
def rollup_downloads() -> int:
    """Fold new downloads (pending events, and the Redis day counts) into daily counts and listing totals
    (idempotent; safe to overlap).

    The listings whose figures moved are rendered again by the fold itself; here their cached listing
    variants are dropped (``store_cache_invalidate_figures``). List pages are not: their figures and the
    popular order lag by up to a page's freshness (``STORE_CACHE_TTL``). The catalog document is marked
    stale and rebuilt by the debounced task, so its download counts lag by up to
    ``CATALOG_REBUILD_DEBOUNCE`` seconds. Returns the number of downloads newly counted.
    """
    from apps.models import App

    result = downloads_fold()
    if result.app_ids:
        packages = App.objects.filter(pk__in=result.app_ids).values_list("package_id", flat=True)
        store_cache_invalidate_figures(package_ids=sorted(packages))
        catalog_mark_stale()
    return result.downloads


@shared_task(acks_late=True, time_limit=600, soft_time_limit=570)
def catalog_rebuild(base: str | None = None) -> list[str]:
    """Build the catalog file of ``base`` (a host with no document yet), or of every base, in package storage
    and make it the served one; returns the new ETags."""
    return catalog_rebuild_service(base)
