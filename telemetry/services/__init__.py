"""Telemetry services (writes). Re-exported here: ``from telemetry.services import events_ingest``."""

from .crashes import CrashResult, crash_fingerprint, crash_report_submit
from .ingest import IngestResult, events_ingest
from .partitions import (
    telemetry_events_expire,
    telemetry_partitions_ensure,
    telemetry_partitions_maintain,
)
from .rollups import RecomputeReport, RollupReport, stats_recompute, stats_rollup_days, stats_rollup_recent

__all__ = [
    "CrashResult",
    "IngestResult",
    "RecomputeReport",
    "RollupReport",
    "crash_fingerprint",
    "crash_report_submit",
    "events_ingest",
    "stats_recompute",
    "stats_rollup_days",
    "stats_rollup_recent",
    "telemetry_events_expire",
    "telemetry_partitions_ensure",
    "telemetry_partitions_maintain",
]
