"""Receivers: keep the public read side in step with writers (apps, versions, reviews) via ``catalog_changed``."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from mosis.core.signals import catalog_changed

from .services.cache import store_cache_invalidate
from .services.catalog import catalog_mark_stale
from .services.listing import listing_refresh, listing_refresh_ratings

logger = logging.getLogger(__name__)


@receiver(catalog_changed, dispatch_uid="store.on_catalog_changed")
def on_catalog_changed(sender, *, app_id=None, reason: str = "", **kwargs) -> None:
    """Refresh the app's listing row and ratings, drop cached store reads and mark the catalog stale.

    Sent after commit, so the rows are visible. Ratings are recomputed on every change (one aggregate query)
    so writers need not agree on reason names. The cache is invalidated even when a refresh fails, so no
    reader keeps the old state; the failure is logged (not raised into the writer's request) and the next
    change repairs the row. The catalog document is rebuilt by a debounced task (``catalog_mark_stale``);
    the previous one is served until then.
    """
    try:
        if app_id is not None:
            listing_refresh(app_id=app_id)
            listing_refresh_ratings(app_id=app_id)
    except Exception:
        logger.exception("listing refresh failed for app %s (reason %s)", app_id, reason)
    finally:
        store_cache_invalidate(app_id=app_id)
        catalog_mark_stale()
