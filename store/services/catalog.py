"""The catalog document (seed 001's daily list), built in one place for the API view and ``export_catalog``."""

from django.utils import timezone

from .. import selectors
from ..serializers_catalog import CatalogSerializer


def catalog_document() -> dict:
    """Every listed app (and disabled ones, flagged) with what an extension manager needs; JSON-ready."""
    listings = selectors.attach_shown_versions(list(selectors.catalog_listings()))
    return CatalogSerializer({"generated_at": timezone.now(), "count": len(listings), "apps": listings}).data
