"""Telemetry background work (beat; schedules created by migration 0002). Tasks call one service."""

from __future__ import annotations

from celery import shared_task

from .services import stats_rollup_recent, telemetry_partitions_maintain


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1740)
def telemetry_rollup() -> dict:
    """Hourly: every app's downloads, active users and crashes for yesterday and today (idempotent, safe to
    overlap: absolute values)."""
    report = stats_rollup_recent()
    return {"days": report.days, "rows": report.rows}


@shared_task(acks_late=True, time_limit=600, soft_time_limit=570)
def telemetry_partitions() -> dict:
    """Every 6 hours: monthly event partitions created ahead, expired ones dropped (idempotent)."""
    return telemetry_partitions_maintain()
