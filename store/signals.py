"""Receivers: keep the public read side in step with writers (apps, versions, reviews) via ``catalog_changed``."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from accounts.models import User
from apps.models import Category
from mosis.core.signals import catalog_changed
from store.catalog.services.cache import store_cache_invalidate
from store.catalog.services.document import catalog_mark_stale
from store.catalog.services.listing import listing_refresh, listing_refresh_ratings

from .models import AppListing

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


@receiver(post_save, sender=User, dispatch_uid="store.on_user_saved")
def on_user_saved(sender, instance: User, created: bool, update_fields=None, **kwargs) -> None:
    """A developer's name is each of their listings' ``author_name`` (list pages, listing documents, the
    catalog). When it changed (admin, or a provider profile at sign-in), those rows take the new name and drop
    their stored documents (the next read renders them again, as for a category rename) in one UPDATE, and
    their cached reads are invalidated after commit. A save that names only other fields (``last_login`` at
    every sign-in) costs nothing; any other save one indexed query that usually finds no row."""
    if created or (update_fields is not None and "name" not in update_fields):
        return
    name = instance.name or ""
    stale = AppListing.objects.filter(app__owner_id=instance.pk).exclude(author_name=name)
    app_ids = list(stale.values_list("app_id", flat=True))
    if not app_ids:
        return
    AppListing.objects.filter(app_id__in=app_ids).update(author_name=name, listing_document=None)

    if len(app_ids) > _RENAME_PER_APP_LIMIT:
        transaction.on_commit(_invalidate_everything)  # one bump instead of a round trip per app
        return

    def invalidate() -> None:
        for app_id in app_ids:
            store_cache_invalidate(app_id=app_id)
        catalog_mark_stale()

    transaction.on_commit(invalidate)


# Above this many apps, a developer's rename invalidates the whole store cache once (like a category change).
_RENAME_PER_APP_LIMIT = 20


def _invalidate_everything() -> None:
    store_cache_invalidate()
    catalog_mark_stale()
