"""Telemetry reads shared by the API, the admin and the portal (queries designed here, STYLE §6).

Callers pass an app they already authorised (``apps.policies.app_for_owner``); nothing here checks ownership.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Prefetch, QuerySet

from .constants import ANALYTICS_METRICS
from .models import AppDailyStats, CrashGroup, CrashGroupVersion, CrashSample


def app_analytics(
    *, app, start: dt.date, end: dt.date, metrics: tuple[str, ...] = ANALYTICS_METRICS
) -> list[dict]:
    """One row per UTC day from ``start`` to ``end`` inclusive, oldest first, zero-filled:
    ``{"date": "YYYY-MM-DD", <metric>: int, ...}`` with only the ``metrics`` asked for. One query."""
    stored = {
        row["day"]: row
        for row in AppDailyStats.objects.filter(app=app, day__gte=start, day__lte=end).values("day", *metrics)
    }
    rows = []
    for offset in range((end - start).days + 1):
        day = start + dt.timedelta(days=offset)
        figures = stored.get(day, {})
        rows.append({"date": day.isoformat(), **{name: figures.get(name, 0) for name in metrics}})
    return rows


def crash_groups_for_app(*, app, version: str | None = None) -> QuerySet[CrashGroup]:
    """The app's crash groups, most recently seen first, each with its per-version counts
    (``group.versions``, newest first; one query per page).

    Every group carries ``shown_app_version``, ``shown_occurrences``, ``shown_first_seen`` and
    ``shown_last_seen``: the group's own figures, or with ``version`` only the groups seen in that app
    version, with that version's figures (read through the (app, app_version, last_seen) index).
    """
    groups = CrashGroup.objects.filter(app=app).prefetch_related(
        Prefetch("versions", queryset=CrashGroupVersion.objects.order_by("-last_seen", "app_version"))
    )
    if version is None:
        groups = groups.annotate(
            shown_app_version=F("app_version"),
            shown_occurrences=F("occurrences"),
            shown_first_seen=F("first_seen"),
            shown_last_seen=F("last_seen"),
        )
    else:
        groups = groups.filter(versions__app=app, versions__app_version=version).annotate(
            shown_app_version=F("versions__app_version"),
            shown_occurrences=F("versions__occurrences"),
            shown_first_seen=F("versions__first_seen"),
            shown_last_seen=F("versions__last_seen"),
        )
    return groups.order_by("-shown_last_seen", "-id")


def crash_group_detail(*, app, group_id) -> CrashGroup | None:
    """One of the app's crash groups with its per-version counts and its sample of recent raw reports
    (``group.recent_samples``, newest first), or None. Three queries."""
    return (
        CrashGroup.objects.filter(app=app, pk=group_id)
        .prefetch_related(
            Prefetch("versions", queryset=CrashGroupVersion.objects.order_by("-last_seen", "app_version")),
            Prefetch(
                "samples", queryset=CrashSample.objects.order_by("-timestamp"), to_attr="recent_samples"
            ),
        )
        .first()
    )
