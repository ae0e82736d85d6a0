"""Store background work: the download rollup (beat, every 5 minutes; see migration 0003)."""

from __future__ import annotations

from celery import shared_task

from .services.cache import store_cache_invalidate
from .services.downloads import downloads_rollup


@shared_task(acks_late=True, time_limit=300, soft_time_limit=270)
def rollup_downloads() -> int:
    """Fold pending download events into daily counts and listing totals (idempotent; safe to overlap).

    Store caches are invalidated when anything was folded, so download counts in browse pages move.
    Returns the number of events folded.
    """
    folded = downloads_rollup()
    if folded:
        store_cache_invalidate()
    return folded
