"""Query parameters of the telemetry reads (``mosis.core.filters``): validated here, applied by the selectors."""

from __future__ import annotations

import django_filters
from rest_framework.exceptions import ValidationError

from mosis.core.filters import QueryFilterSet, StrictCharFilter

from .constants import ANALYTICS_METRICS, APP_VERSION_MAX_LENGTH
from .models import AppDailyStats, CrashGroup
from .serializers import (
    ANALYTICS_END_HELP,
    ANALYTICS_METRICS_HELP,
    ANALYTICS_METRICS_MAX_LENGTH,
    ANALYTICS_START_HELP,
    CRASH_VERSION_HELP,
    analytics_metrics,
    analytics_range,
)

ISO_DATE = ["%Y-%m-%d"]


class CrashGroupFilterSet(QueryFilterSet):
    """``GET /v1/apps/{id}/crashes`` → ``selectors.crash_groups_for_app(version=)``."""

    version = StrictCharFilter(max_length=APP_VERSION_MAX_LENGTH, help_text=CRASH_VERSION_HELP)

    class Meta:
        model = CrashGroup
        fields = []


class AnalyticsFilterSet(QueryFilterSet):
    """``GET /v1/apps/{id}/analytics`` → ``selectors.app_analytics(start=, end=, metrics=)``: at most 366 days,
    start not after end, the last 30 days by default (``telemetry.serializers.analytics_range``)."""

    start_date = django_filters.DateFilter(
        field_name="start", input_formats=ISO_DATE, help_text=ANALYTICS_START_HELP
    )
    end_date = django_filters.DateFilter(
        field_name="end", input_formats=ISO_DATE, help_text=ANALYTICS_END_HELP
    )
    metrics = StrictCharFilter(max_length=ANALYTICS_METRICS_MAX_LENGTH, help_text=ANALYTICS_METRICS_HELP)

    class Meta:
        model = AppDailyStats
        fields = []

    def clean_params(self, values):
        metrics = ANALYTICS_METRICS
        if "metrics" in values:
            try:
                metrics = analytics_metrics(values["metrics"])
            except ValidationError as error:
                raise ValidationError({"metrics": error.detail})
        start, end = analytics_range(start=values.get("start"), end=values.get("end"))
        return {"start": start, "end": end, "metrics": metrics}
