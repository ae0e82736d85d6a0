"""Receivers: keep the public read side in step with writers (apps, versions, reviews) via ``catalog_changed``."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from apps.models import Category
from mosis.core.signals import catalog_changed

from .models import AppListing
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


@receiver(post_save, sender=Category, dispatch_uid="store.on_category_saved")
@receiver(pre_delete, sender=Category, dispatch_uid="store.on_category_deleted")
def on_category_changed(sender, instance: Category, **kwargs) -> None:
    """A category was added, renamed or removed (admin): its slug is in its apps' stored listing documents,
    in every list page and in the catalog. The documents are dropped (the next read renders them again, see
    ``StoreAppDetailView``) rather than re-rendered here, since a category may hold thousands of apps."""
    AppListing.objects.filter(category_id=instance.pk).update(listing_document=None)
    transaction.on_commit(_invalidate_everything)


def _invalidate_everything() -> None:
    store_cache_invalidate()
    catalog_mark_stale()
