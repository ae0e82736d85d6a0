"""Event ingestion (``POST /v1/telemetry/events``): validate each event on its own, store the valid ones in bulk.

Validation is plain Python, not a DRF serializer per event: a 1 000-event batch must cost well under a
millisecond of Python per hundred events to keep up with the database (docs/performance.md, "Telemetry
ingestion"). The rules match the OpenAPI schema of ``EventBatchSerializer``; each has a test.

Storing is one ``COPY ... FROM STDIN`` (psycopg 3) on PostgreSQL, one ``bulk_create`` elsewhere: never a row
at a time. Nothing is acknowledged before it is stored.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.models import App
from mosis.core.errors import ApplicationError, ErrorCode

from .. import metrics
from ..constants import (
    EVENT_DATA_MAX_BYTES,
    EVENT_FIELDS,
    EVENT_TYPE_MAX_LENGTH,
    EVENT_TYPE_RE,
    JSON_MAX_DEPTH,
    MAX_BATCH_EVENTS,
    RESERVED_EVENT_PREFIX,
)
from ..models import TelemetryEvent
from .partitions import is_partitioned, oldest_retained_day, telemetry_partitions_ensure

TIMESTAMP_MAX_LENGTH = 40
COPY_COLUMNS = ("timestamp", "app_id", "device_id", "event_type", "event_data", "received_at")


class EventRejected(Exception):
    """One event's problem: ``reason`` is the metric label, the message goes back to the client."""

    def __init__(self, message: str, reason: str = "invalid"):
        super().__init__(message)
        self.reason = reason


@dataclass
class IngestResult:
    received: int = 0
    rejected: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"received": self.received, "rejected": self.rejected}


@dataclass(frozen=True)
class EventRow:
    timestamp: dt.datetime
    app_id: uuid.UUID
    event_type: str
    event_data: str  # compact JSON text
    data: dict


# --- shared field checks (crash reports use them too) ------------------------------------------------------


def json_problem(value, *, depth: int = 0) -> str | None:
    """Why parsed JSON ``value`` cannot be stored, or None: nested deeper than ``JSON_MAX_DEPTH``, or holding
    a NUL character (PostgreSQL's jsonb cannot store ``\\u0000``)."""
    if depth > JSON_MAX_DEPTH:
        return f"nested deeper than {JSON_MAX_DEPTH} levels"
    if isinstance(value, str):
        return "contains a NUL character" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return "contains a NUL character"
            problem = json_problem(item, depth=depth + 1)
            if problem:
                return problem
    elif isinstance(value, list):
        for item in value:
            problem = json_problem(item, depth=depth + 1)
            if problem:
                return problem
    return None


def bounded_json_object(value, *, name: str, max_bytes: int) -> str:
    """``value`` as compact JSON text, if it is an object within the bounds; raises ``EventRejected``."""
    if not isinstance(value, dict):
        raise EventRejected(f"{name}: must be a JSON object.")
    problem = json_problem(value)
    if problem:
        raise EventRejected(f"{name}: {problem}.")
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        size = len(text.encode())
    except UnicodeEncodeError:  # a lone surrogate (\ud800) parsed from the JSON body
        raise EventRejected(f"{name}: contains invalid Unicode (an unpaired surrogate).")
    if size > max_bytes:
        raise EventRejected(f"{name}: at most {max_bytes} bytes as JSON ({size} sent).")
    return text


def clamped_timestamp(value, *, now: dt.datetime, oldest: dt.datetime) -> dt.datetime:
    """An ISO 8601 timestamp with an offset, in UTC; a moment after ``now`` (a device clock ahead, the year
    3000) is clamped to ``now``; one before ``oldest`` (outside the retention) is refused."""
    if value is None:
        return now
    if not isinstance(value, str) or len(value) > TIMESTAMP_MAX_LENGTH:
        raise EventRejected("timestamp: must be an ISO 8601 date-time string.")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise EventRejected("timestamp: must be an ISO 8601 date-time such as 2026-12-04T10:15:00Z.")
    if moment.tzinfo is None:
        raise EventRejected("timestamp: must carry a UTC offset (…Z or …+00:00).")
    moment = moment.astimezone(dt.UTC)
    if moment > now:
        return now
    if moment < oldest:
        raise EventRejected(
            f"timestamp: older than the retention window (events from {oldest:%Y-%m-%d} on are accepted).",
            reason="too_old",
        )
    return moment


def parse_app_id(value) -> uuid.UUID:
    if not isinstance(value, str):
        raise EventRejected("app_id: must be a UUID string.")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise EventRejected("app_id: must be a UUID string.")


def ingestion_window(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """(now, oldest accepted moment): events are kept from the first retained UTC day up to now."""
    now = now or timezone.now().astimezone(dt.UTC)
    oldest_day = oldest_retained_day(now.date())
    return now, dt.datetime.combine(oldest_day, dt.time.min, tzinfo=dt.UTC)


def reportable_app_ids(app_ids: Iterable[uuid.UUID], *, owner=None) -> set[uuid.UUID]:
    """Which of ``app_ids`` a principal may report for: any existing app for a device, the owner's own apps
    for a developer credential. One query."""
    apps = App.objects.filter(pk__in=set(app_ids))
    if owner is not None:
        apps = apps.filter(owner=owner)
    return set(apps.values_list("pk", flat=True))


# --- events ---------------------------------------------------------------------------------------------


def _event_row(item, *, now: dt.datetime, oldest: dt.datetime) -> EventRow:
    if not isinstance(item, dict):
        raise EventRejected("must be a JSON object.")
    unknown = item.keys() - EVENT_FIELDS
    if unknown:
        raise EventRejected(f"unknown field(s): {', '.join(sorted(map(str, unknown)))}.")
    app_id = parse_app_id(item.get("app_id"))
    event_type = item.get("event_type")
    if not isinstance(event_type, str) or not EVENT_TYPE_RE.match(event_type):
        raise EventRejected(
            f"event_type: must be 1-{EVENT_TYPE_MAX_LENGTH} characters of lowercase letters, digits, "
            "'_', '.', ':' or '-', starting with a letter."
        )
    if event_type.startswith(RESERVED_EVENT_PREFIX):
        raise EventRejected(f"event_type: the '{RESERVED_EVENT_PREFIX}' prefix is reserved for the store.")
    data = item.get("event_data", {})
    text = bounded_json_object(data, name="event_data", max_bytes=EVENT_DATA_MAX_BYTES)
    timestamp = clamped_timestamp(item.get("timestamp"), now=now, oldest=oldest)
    return EventRow(timestamp=timestamp, app_id=app_id, event_type=event_type, event_data=text, data=data)


def events_ingest(*, events, device=None, owner=None) -> IngestResult:
    """Validate each event of a batch on its own and store the valid ones with one bulk write.

    Exactly one principal: ``device`` (a Device: any existing app) or ``owner`` (the developer behind a JWT or
    an API key with ``telemetry:write``: only their apps). A batch that is not a list of 1..1000 items is a
    400 as a whole; within it, an invalid event, an unknown (or, for a developer, someone else's) app or a
    timestamp older than the retention rejects that event only: ``rejected`` lists ``{index, error}`` and
    ``received`` counts what was stored. Timestamps after the moment of receipt are clamped to it.
    """
    if (device is None) == (owner is None):
        raise ValueError("events_ingest needs exactly one of device= or owner=")
    if not isinstance(events, list) or not events:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            "events must be a non-empty list of events.",
            {"events": ["Must be a non-empty list."]},
        )
    if len(events) > MAX_BATCH_EVENTS:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            f"At most {MAX_BATCH_EVENTS} events a batch ({len(events)} sent); split the batch.",
            {"events": [f"At most {MAX_BATCH_EVENTS} events a batch."]},
        )
    started = time.perf_counter()
    now, oldest = ingestion_window()
    result = IngestResult()
    rows: list[tuple[int, EventRow]] = []
    reasons: dict[str, int] = {}
    for index, item in enumerate(events):
        try:
            rows.append((index, _event_row(item, now=now, oldest=oldest)))
        except EventRejected as rejection:
            result.rejected.append({"index": index, "error": str(rejection)})
            reasons[rejection.reason] = reasons.get(rejection.reason, 0) + 1
    if rows:
        allowed = reportable_app_ids((row.app_id for _, row in rows), owner=owner)
        kept = []
        for index, row in rows:
            if row.app_id in allowed:
                kept.append(row)
            else:
                result.rejected.append({"index": index, "error": "app_id: unknown app."})
                reasons["unknown_app"] = reasons.get("unknown_app", 0) + 1
        result.rejected.sort(key=lambda rejection: rejection["index"])
        if kept:
            events_store(rows=kept, device_id=device.pk if device is not None else None, received_at=now)
        result.received = len(kept)
    metrics.EVENTS_INGESTED.labels(source="device" if device is not None else "developer").inc(
        result.received
    )
    for reason, count in reasons.items():
        metrics.EVENTS_REJECTED.labels(reason=reason).inc(count)
    metrics.BATCH_EVENTS.observe(len(events))
    metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
    return result


def events_store(*, rows: list[EventRow], device_id, received_at: dt.datetime) -> None:
    """Write validated rows: one COPY on PostgreSQL (creating a missing partition and retrying once if a row
    finds none), one ``bulk_create`` elsewhere. Atomic: all rows or none."""
    if not is_partitioned():
        TelemetryEvent.objects.bulk_create(
            [
                TelemetryEvent(
                    timestamp=row.timestamp,
                    app_id=row.app_id,
                    device_id=device_id,
                    event_type=row.event_type,
                    event_data=row.data,
                    received_at=received_at,
                )
                for row in rows
            ]
        )
        return
    payload = copy_payload(rows, device_id=device_id, received_at=received_at)
    try:
        _copy(payload)
    except IntegrityError as error:
        if "no partition" not in str(error):
            raise
        telemetry_partitions_ensure()
        _copy(payload)


def copy_payload(rows: list[EventRow], *, device_id, received_at: dt.datetime) -> bytes:
    """The rows in COPY's text format (tab-separated, ``\\N`` for NULL). Only the JSON text can hold a
    backslash (uuids, slugs and timestamps cannot, and JSON escapes every control character), so doubling
    backslashes is the whole escaping."""
    device = str(device_id) if device_id is not None else "\\N"
    received = received_at.isoformat()
    tail = f"\t{received}\n"
    lines = [
        f"{row.timestamp.isoformat()}\t{row.app_id}\t{device}\t{row.event_type}\t"
        + row.event_data.replace("\\", "\\\\")
        + tail
        for row in rows
    ]
    return "".join(lines).encode()


def _copy(payload: bytes) -> None:
    columns = ", ".join(connection.ops.quote_name(column) for column in COPY_COLUMNS)
    # The raw psycopg cursor's copy(); wrap_database_errors gives its errors Django's classes (IntegrityError).
    statement = f"COPY {TelemetryEvent._meta.db_table} ({columns}) FROM STDIN"
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(statement) as copy,
    ):
        copy.write(payload)
