"""Query parameters of ``GET /v1/apps/{id}/versions`` (``mosis.core.filters``), applied by the selector."""

from __future__ import annotations

import django_filters

from mosis.core.filters import QueryFilterSet

from .constants import VersionStatus
from .models import AppVersion


class VersionFilterSet(QueryFilterSet):
    """``GET /v1/apps/{id}/versions`` → ``selectors.version_list(status=)``."""

    status = django_filters.ChoiceFilter(choices=VersionStatus.choices, empty_label=None)

    class Meta:
        model = AppVersion
        fields = []
