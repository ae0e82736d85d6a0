"""Prometheus metrics of telemetry (served at ``/metrics`` by django-prometheus; docs/operations.md)."""

from prometheus_client import Counter, Histogram

EVENTS_INGESTED = Counter(
    "mosis_telemetry_events_ingested",
    "Telemetry events stored, by who sent them (device or developer credential).",
    ["source"],
)
EVENTS_REJECTED = Counter(
    "mosis_telemetry_events_rejected",
    "Telemetry events refused inside an accepted batch: invalid, unknown_app or too_old.",
    ["reason"],
)
BATCH_SECONDS = Histogram(
    "mosis_telemetry_batch_seconds",
    "Time to validate and store one event batch (the request's own work, without the framework).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
BATCH_EVENTS = Histogram(
    "mosis_telemetry_batch_events",
    "Events per submitted batch.",
    buckets=(1, 10, 50, 100, 250, 500, 1000),
)
CRASH_REPORTS = Counter(
    "mosis_telemetry_crash_reports",
    "Crash reports counted, by whether they opened a new crash group (new) or joined one (existing).",
    ["group"],
)
ROLLUP_SECONDS = Histogram(
    "mosis_telemetry_rollup_seconds",
    "Time to roll up one UTC day of downloads, active users and crashes for every app.",
    buckets=(0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0),
)
