"""Query parameters of ``/v1/apps`` and ``/v1/events`` (``mosis.core.filters``): validated here, applied by
the selectors."""

from __future__ import annotations

import django_filters
from rest_framework.exceptions import ValidationError

from mosis.core.filters import QueryFilterSet, StrictCharFilter

from .constants import AppStatus
from .models import ActivityEvent, App


class AppFilterSet(QueryFilterSet):
    """``GET /v1/apps`` → ``selectors.app_list(status=)``."""

    status = django_filters.ChoiceFilter(choices=AppStatus.choices, empty_label=None)

    class Meta:
        model = App
        fields = []


class EventFilterSet(QueryFilterSet):
    """``GET /v1/events`` → ``selectors.event_list(type=, app_id=, since=, until=)``."""

    type = StrictCharFilter(max_length=50)
    app_id = django_filters.UUIDFilter()
    since = django_filters.IsoDateTimeFilter()
    until = django_filters.IsoDateTimeFilter()

    class Meta:
        model = ActivityEvent
        fields = []

    def clean_params(self, values):
        if "since" in values and "until" in values and values["since"] >= values["until"]:
            raise ValidationError({"until": ["Must be after since."]})
        return values
