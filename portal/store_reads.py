"""The developer portal's only reads of the public store (``store``), kept in one module so the store's
refactor repoints them in one place: the sanitizer the store renders long descriptions with, and each
app's downloads of the last 7 days from its listing row."""

from __future__ import annotations

from store.catalog.services.listing import render_long_description
from store.models import AppListing


def long_description_html(text: str) -> str:
    """Markdown → sanitized HTML, exactly as the store page and ``long_description_html`` render it."""
    return render_long_description(text or "")


def downloads_last_7_days(*, app_ids) -> dict:
    """``{app_id: downloads of the last 7 UTC days}`` (the rollup's figure; 0 for apps never listed).
    One query for any number of apps."""
    ids = list(app_ids)
    if not ids:
        return {}
    return dict(AppListing.objects.filter(app_id__in=ids).values_list("app_id", "downloads_recent"))
