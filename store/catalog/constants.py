"""The catalog's fixed vocabulary: the text-search configuration, how a staff-set Mosis cap reads and how a
listing's rating figures read."""

from __future__ import annotations

from versions.constants import mosis_version_number

SEARCH_CONFIG = "english"  # one text-search configuration for the vector and the query, so stems agree


def mosis_cap_number(value: str) -> int | None:
    """The app's staff-set ``max_mosis_version_override`` as a number (None when unset or unparsable)."""
    try:
        return mosis_version_number(value or None)
    except ValueError:
        return None


def rating_average(*, rating_sum: int, rating_count: int) -> float | None:
    """The ``rating`` every public answer shows: the plain average of the visible reviews, rounded to 2
    decimals; None without reviews. The one place it is computed (the listing and list pages through
    ``PublicAppSerializer``, the catalog entries, the store's pages)."""
    return round(rating_sum / rating_count, 2) if rating_count else None
