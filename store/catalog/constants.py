"""The catalog's fixed vocabulary: the text-search configuration and how a staff-set Mosis cap reads."""

from __future__ import annotations

from versions.constants import mosis_version_number

SEARCH_CONFIG = "english"  # one text-search configuration for the vector and the query, so stems agree


def mosis_cap_number(value: str) -> int | None:
    """The app's staff-set ``max_mosis_version_override`` as a number (None when unset or unparsable)."""
    try:
        return mosis_version_number(value or None)
    except ValueError:
        return None
