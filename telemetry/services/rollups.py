"""Daily rollups: one ``AppDailyStats`` row per (app, UTC day) with downloads, active users and crashes.

- **downloads**: the store's per-version daily download counts (``DownloadDaily``, kept final forever),
  summed per app. The store folds new downloads into them every 5 minutes (``store.tasks``);
  ``stats_recompute`` (``manage.py rollup_stats``) first asks the store to fold and recount.
- **active users**: distinct devices with at least one event (a crash report is one) that day.
- **crashes**: crash reports that day (the raw ``mosis.crash`` events).

Every figure is written as an absolute value (upsert), so re-running any range is safe. Raw events exist
only within ``TELEMETRY_RETENTION_DAYS``: for older days only downloads are recomputed and the stored
active users and crashes are kept.

The only read of another app's model outside its services: ``store.models.DownloadDaily`` (the store has
no selector for per-app daily downloads yet; see the report of issue 14).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Q, Sum

from apps.models import App

from .. import metrics
from ..constants import CRASH_EVENT_TYPE
from ..models import AppDailyStats, TelemetryEvent
from .partitions import oldest_retained_day, utc_today

logger = logging.getLogger("mosis.telemetry")

UPSERT_BATCH = 1000
FIGURES = ("downloads", "active_users", "crashes")


@dataclass
class RollupReport:
    days: int = 0
    rows: int = 0  # AppDailyStats rows written
    downloads_only_days: list[dt.date] = field(default_factory=list)  # past the retention: events gone


def _daily_downloads(day: dt.date) -> dict:
    from store.models import DownloadDaily

    return dict(
        DownloadDaily.objects.filter(day=day)
        .values("app_id")
        .annotate(total=Sum("count"))
        .order_by()
        .values_list("app_id", "total")
    )


def _daily_event_figures(day: dt.date) -> dict:
    """{app_id: (active users, crashes)} from the raw events of ``day`` (one scan of that day's rows through
    the time index, within one partition)."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    rows = (
        TelemetryEvent.objects.filter(timestamp__gte=start, timestamp__lt=start + dt.timedelta(days=1))
        .values("app_id")
        .annotate(
            active=Count("device_id", distinct=True),
            crashes=Count("id", filter=Q(event_type=CRASH_EVENT_TYPE)),
        )
        .order_by()
        .values_list("app_id", "active", "crashes")
    )
    return {app_id: (active, crashes) for app_id, active, crashes in rows}


def stats_rollup_day(*, day: dt.date, with_events: bool = True) -> int:
    """Write every app's figures for ``day``; returns the rows written. With ``with_events`` False (a day past
    the retention) only ``downloads`` is rewritten. Rows of apps with nothing that day any more are zeroed.
    One transaction per day."""
    started = time.perf_counter()
    downloads = _daily_downloads(day)
    events = _daily_event_figures(day) if with_events else {}
    app_ids = set(downloads) | set(events)
    if events:  # events of deleted (draft) apps stay until their partition goes: skip them
        app_ids &= set(App.objects.filter(pk__in=app_ids).values_list("pk", flat=True))
    rows = [
        AppDailyStats(
            app_id=app_id,
            day=day,
            downloads=downloads.get(app_id, 0),
            active_users=events.get(app_id, (0, 0))[0],
            crashes=events.get(app_id, (0, 0))[1],
        )
        for app_id in app_ids
    ]
    figures = list(FIGURES) if with_events else ["downloads"]
    with transaction.atomic():
        stale = set(AppDailyStats.objects.filter(day=day).values_list("app_id", flat=True)) - app_ids
        if stale:
            AppDailyStats.objects.filter(day=day, app_id__in=stale).update(**dict.fromkeys(figures, 0))
        AppDailyStats.objects.bulk_create(
            rows,
            batch_size=UPSERT_BATCH,
            update_conflicts=True,
            unique_fields=["app", "day"],
            update_fields=[*figures, "updated_at"],
        )
    metrics.ROLLUP_SECONDS.observe(time.perf_counter() - started)
    return len(rows)


def stats_rollup_days(*, start: dt.date, end: dt.date, today: dt.date | None = None) -> RollupReport:
    """Roll up each UTC day from ``start`` to ``end`` (inclusive); idempotent."""
    oldest = oldest_retained_day(today or utc_today())
    report = RollupReport()
    day = start
    while day <= end:
        with_events = day >= oldest
        report.rows += stats_rollup_day(day=day, with_events=with_events)
        if not with_events:
            report.downloads_only_days.append(day)
        report.days += 1
        day += dt.timedelta(days=1)
    return report


def stats_rollup_recent(*, today: dt.date | None = None) -> RollupReport:
    """Beat's hourly work: yesterday (events sent late or around midnight) and today so far."""
    today = today or utc_today()
    return stats_rollup_days(start=today - dt.timedelta(days=1), end=today, today=today)


@dataclass
class RecomputeReport:
    downloads_folded: int
    download_days_recounted: int
    rollup: RollupReport


def stats_recompute(*, start: dt.date, end: dt.date) -> RecomputeReport:
    """``manage.py rollup_stats``: fold pending downloads and recount the store's per-day download counts for
    the range (the store's own rollup functions; listing totals recomputed as of ``end``), then roll up
    every figure of every day in it."""
    from store.downloads.services import (
        downloads_recount_days,
        downloads_rollup,
        listing_downloads_recompute,
    )

    folded = 0
    while True:
        batch = downloads_rollup(today=end)
        folded += batch
        if batch == 0:
            break
    recounted = downloads_recount_days(start=start, end=end)
    listing_downloads_recompute(today=end, app_ids=None)
    return RecomputeReport(
        downloads_folded=folded,
        download_days_recounted=recounted,
        rollup=stats_rollup_days(start=start, end=end),
    )
