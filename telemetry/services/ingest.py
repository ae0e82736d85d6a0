"""Event ingestion (``POST /v1/telemetry/events``): validate each event on its own, store the valid ones in bulk.

Validation is plain Python, not a DRF serializer per event: a 1 000-event batch must cost well under a
millisecond of Python per hundred events to keep up with the database (docs/performance.md, "Telemetry
ingestion"). The rules match the OpenAPI schema of ``EventBatchSerializer``; each has a test.

Storing is one ``COPY ... FROM STDIN`` (psycopg 3) on PostgreSQL, one ``bulk_create`` elsewhere: never a row
at a time. Nothing is acknowledged before it is stored.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import orjson
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.models import App
from mosis.core.db import fetch_one
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


class EventRow(NamedTuple):
    timestamp: dt.datetime
    app_id: uuid.UUID
    event_type: str
    event_data: bytes  # compact JSON, UTF-8
    data: dict
    stamp: bytes | None = None  # the timestamp as sent, when PostgreSQL reads it exactly as Python did


# A UTC timestamp in the one ISO 8601 form both Python and PostgreSQL read the same way: COPY can take it as
# sent instead of formatting the parsed value again.
CANONICAL_UTC = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|\+00:00)"
)
# The same language as CANONICAL_UTC, tested on the UTF-8 bytes in a third of the regex's time: every ASCII
# digit made "0", the result must be one of its 14 shapes (any other byte, a non-ASCII digit included, must
# match a shape literally, so it cannot), and an offset must be "+00:00" itself, not any "+dd:dd".
_DIGITS_TO_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_CANONICAL_UTC_SHAPES = frozenset(
    b"0000-00-00T00:00:00" + fraction + zone
    for fraction in (b"", *(b"." + b"0" * digits for digits in range(1, 7)))
    for zone in (b"Z", b"+00:00")
)


def canonical_utc_stamp(value: str) -> bytes | None:
    """``value`` as UTF-8 if it is in the canonical UTC form (``CANONICAL_UTC``), else None."""
    stamp = value.encode()
    if stamp.translate(_DIGITS_TO_ZERO) in _CANONICAL_UTC_SHAPES and (
        stamp[-1:] == b"Z" or stamp[-6:] == b"+00:00"
    ):
        return stamp
    return None


# --- shared field checks (crash reports use them too) ------------------------------------------------------


def _nested_too_deep(container, depth: int = 0) -> bool:
    """True if a dict or list inside ``container`` (or its values) lies more than ``JSON_MAX_DEPTH`` levels
    below it. Only containers are walked: scalars cannot nest."""
    if not container:
        return False
    if depth >= JSON_MAX_DEPTH:
        return True
    for item in container.values() if type(container) is dict else container:
        kind = type(item)
        if (kind is dict or kind is list) and _nested_too_deep(item, depth + 1):
            return True
    return False


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in key or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def bounded_json_object(value, *, name: str, max_bytes: int) -> bytes:
    """``value`` as compact UTF-8 JSON, if it is an object nested at most ``JSON_MAX_DEPTH`` levels, of at most
    ``max_bytes`` and storable: no NUL character (PostgreSQL's jsonb cannot hold ``\\u0000``), no unpaired
    surrogate, no integer beyond 64 bits. Raises ``EventRejected`` naming the problem.

    Serialized with orjson: ~20x faster than the standard library here, which is most of a batch's cost.
    """
    if not isinstance(value, dict):
        raise EventRejected(f"{name}: must be a JSON object.")
    try:
        text = orjson.dumps(value)
    except orjson.JSONEncodeError as error:
        if "64-bit" in str(error):
            raise EventRejected(f"{name}: integers must fit in 64 bits.")
        if "ecursion" in str(error):  # deeper than orjson goes, far deeper than allowed
            raise EventRejected(f"{name}: nested deeper than {JSON_MAX_DEPTH} levels.")
        raise EventRejected(f"{name}: contains invalid Unicode (an unpaired surrogate).")
    # Nesting needs brackets: with few of them in the text (most events) the walk is not needed.
    if text.count(b"{") + text.count(b"[") > JSON_MAX_DEPTH and _nested_too_deep(value):
        raise EventRejected(f"{name}: nested deeper than {JSON_MAX_DEPTH} levels.")
    # JSON writes a NUL as the escape \u0000, so the text tells cheaply when the precise check is needed (most
    # texts hold no backslash at all: one byte is found faster than six).
    if b"\\" in text and b"\\u0000" in text and _has_nul(value):
        raise EventRejected(f"{name}: contains a NUL character.")
    if len(text) > max_bytes:
        raise EventRejected(f"{name}: at most {max_bytes} bytes as JSON ({len(text)} sent).")
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
    zone = moment.tzinfo
    if zone is None:
        raise EventRejected("timestamp: must carry a UTC offset (…Z or …+00:00).")
    if zone is not dt.UTC:  # "Z" and "+00:00" are read as UTC already
        moment = moment.astimezone(dt.UTC)
    if moment > now:
        return now
    if moment < oldest:
        raise EventRejected(
            f"timestamp: older than the retention window (events from {oldest:%Y-%m-%d} on are accepted).",
            reason="too_old",
        )
    return moment


def parse_app_id(value, cache: dict | None = None) -> uuid.UUID:
    """``value`` as a UUID; ``cache`` (one dict per batch) spares parsing the same id a thousand times."""
    if cache is not None and type(value) is str:
        parsed = cache.get(value)
        if parsed is None:
            parsed = cache[value] = parse_app_id(value)
        return parsed
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
    for a developer credential (``owner``: the user or their id). One query; for one app (most batches) a
    prepared statement (``mosis.core.db.fetch_one``), not the ORM."""
    ids = set(app_ids)
    if len(ids) == 1:
        (app_id,) = ids
        pk = App._meta.pk
        params = [pk.get_db_prep_value(app_id, connection)]
        sql = _ONE_APP_SQL
        if owner is not None:
            params.append(pk.get_db_prep_value(getattr(owner, "pk", owner), connection))
            sql = _ONE_OWNED_APP_SQL
        return ids if fetch_one(sql, params) is not None else set()
    apps = App.objects.filter(pk__in=ids)
    if owner is not None:
        apps = apps.filter(owner=owner)
    return set(apps.values_list("pk", flat=True))


_ONE_APP_SQL = f"SELECT 1 FROM {App._meta.db_table} WHERE id = %s"  # noqa: S608 - our table name
_ONE_OWNED_APP_SQL = _ONE_APP_SQL + " AND owner_id = %s"


# --- events ---------------------------------------------------------------------------------------------


class BatchCache:
    """What one batch's events repeat: the app ids (parsed once each) and the event types (checked once each)."""

    __slots__ = ("app_ids", "event_types")

    def __init__(self):
        self.app_ids: dict[str, uuid.UUID] = {}
        self.event_types: set[str] = set()


def _check_event_type(event_type) -> str:
    if type(event_type) is not str or not EVENT_TYPE_RE.fullmatch(event_type):
        raise EventRejected(
            f"event_type: must be 1-{EVENT_TYPE_MAX_LENGTH} characters of lowercase letters, digits, "
            "'_', '.', ':' or '-', starting with a letter."
        )
    if event_type.startswith(RESERVED_EVENT_PREFIX):
        raise EventRejected(f"event_type: the '{RESERVED_EVENT_PREFIX}' prefix is reserved for the store.")
    return event_type


def event_row(item, *, now: dt.datetime, oldest: dt.datetime, cache: BatchCache | None = None) -> EventRow:
    """One event of a batch checked and made a row; raises ``EventRejected``. ``cache``: the batch's."""
    if type(item) is not dict:
        raise EventRejected("must be a JSON object.")
    if not EVENT_FIELDS.issuperset(item):
        unknown = item.keys() - EVENT_FIELDS
        raise EventRejected(f"unknown field(s): {', '.join(sorted(map(str, unknown)))}.")
    cache = cache or BatchCache()
    raw_app_id = item.get("app_id")
    app_id = cache.app_ids.get(raw_app_id) if type(raw_app_id) is str else None
    if app_id is None:
        app_id = parse_app_id(raw_app_id, cache.app_ids)
    event_type = item.get("event_type")
    if type(event_type) is not str or event_type not in cache.event_types:  # (a dict is not hashable)
        cache.event_types.add(_check_event_type(event_type))
    data = item.get("event_data", {})
    text = bounded_json_object(data, name="event_data", max_bytes=EVENT_DATA_MAX_BYTES)
    sent_at = item.get("timestamp")
    timestamp = clamped_timestamp(sent_at, now=now, oldest=oldest)
    stamp = canonical_utc_stamp(sent_at) if timestamp is not now else None
    # tuple.__new__ spares the NamedTuple's Python-level __new__ (a third of a microsecond an event).
    return _new_tuple(EventRow, (timestamp, app_id, event_type, text, data, stamp))


_new_tuple = tuple.__new__


def events_ingest(*, events, device=None, owner=None) -> IngestResult:
    """Validate each event of a batch on its own and store the valid ones with one bulk write.

    Exactly one principal: ``device`` (a Device: any existing app) or ``owner`` (the developer behind a JWT or
    an API key with ``telemetry:write``: only their apps). A batch that is not a list of 1..1000 items is a
    400 as a whole; within it, an invalid event, an unknown (or, for a developer, someone else's) app or a
    timestamp older than the retention rejects that event only: ``rejected`` lists ``{index, error}`` and
    ``received`` counts what was stored. Timestamps after the moment of receipt are clamped to it.

    The apps are checked first (one query for the batch's distinct ids); events are then validated while
    they are streamed into the ``COPY`` in chunks, so PostgreSQL reads one chunk while the next is checked.
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
    reasons: dict[str, int] = {}
    cache = BatchCache()
    allowed = reportable_app_ids(_batch_app_ids(events, cache.app_ids), owner=owner)
    # By the id as sent: a string's hash is cached, a UUID's is computed in Python on every lookup.
    allowed_as_sent = {sent for sent, app_id in cache.app_ids.items() if app_id in allowed}

    def valid_rows():
        for index, item in enumerate(events):
            try:
                row = event_row(item, now=now, oldest=oldest, cache=cache)
                if item["app_id"] not in allowed_as_sent:
                    raise EventRejected("app_id: unknown app.", reason="unknown_app")
            except EventRejected as rejection:
                result.rejected.append({"index": index, "error": str(rejection)})
                reasons[rejection.reason] = reasons.get(rejection.reason, 0) + 1
                continue
            yield row

    result.received = events_store(
        rows=valid_rows(), device_id=device.pk if device is not None else None, received_at=now
    )
    metrics.EVENTS_INGESTED.labels(source="device" if device is not None else "developer").inc(
        result.received
    )
    for reason, count in reasons.items():
        metrics.EVENTS_REJECTED.labels(reason=reason).inc(count)
    metrics.BATCH_EVENTS.observe(len(events))
    metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
    return result


def _batch_app_ids(events: list, cache: dict) -> set[uuid.UUID]:
    """The distinct well-formed app ids of a batch (the malformed are rejected with their event later)."""
    sent = {value for item in events if type(item) is dict and type(value := item.get("app_id")) is str}
    ids = set()
    for value in sent:
        try:
            ids.add(parse_app_id(value, cache))
        except EventRejected:
            continue
    return ids


STREAM_CHUNK_ROWS = 50


def events_store(*, rows: Iterable[EventRow], device_id, received_at: dt.datetime) -> int:
    """Write validated rows, consumed as they come; returns how many. PostgreSQL: one ``COPY``, fed in chunks of
    ``STREAM_CHUNK_ROWS`` (if a row finds no partition, the missing partitions are created and the whole COPY
    is sent again); elsewhere one ``bulk_create``. Atomic: all rows or none. No row, no statement."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    rows = itertools.chain((first,), rows)
    if not is_partitioned():
        objects = [
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
        TelemetryEvent.objects.bulk_create(objects)
        return len(objects)
    counted = [0]
    sent: list[bytes] = []

    def chunks():
        lines = copy_lines(rows, device_id=device_id, received_at=received_at)
        while chunk := list(itertools.islice(lines, STREAM_CHUNK_ROWS)):
            counted[0] += len(chunk)
            sent.append(b"".join(chunk))
            yield sent[-1]

    stream = chunks()
    try:
        _copy(stream)
    except IntegrityError as error:
        if "no partition" not in str(error):
            raise
        for _rest in stream:  # validate (and keep) what the failed COPY did not get to
            pass
        telemetry_partitions_ensure()
        _copy(iter(sent))
    return counted[0]


def copy_lines(rows: Iterable[EventRow], *, device_id, received_at: dt.datetime) -> Iterator[bytes]:
    """Each row as a line of COPY's text format (tab-separated, ``\\N`` for NULL). Only the JSON can hold a
    backslash (uuids, slugs and timestamps cannot, and JSON escapes every control character), so doubling
    backslashes is the whole escaping."""
    device = (str(device_id) if device_id is not None else "\\N").encode()
    tail = f"\t{received_at.isoformat()}\n".encode()
    # What lies between the timestamp and the JSON (app id, device id, event type) is made once for each app
    # and event type of the batch.
    apps: dict[uuid.UUID, dict[str, bytes]] = {}
    last_app, middles = None, {}
    for row in rows:
        if row.app_id is not last_app:  # a batch is usually about one app: the same UUID object throughout
            last_app = row.app_id
            middles = apps.setdefault(last_app, {})
        middle = middles.get(row.event_type)
        if middle is None:
            middle = middles[row.event_type] = (
                f"\t{last_app}\t".encode() + device + f"\t{row.event_type}\t".encode()
            )
        yield (
            (row.stamp or row.timestamp.isoformat().encode())
            + middle
            + row.event_data.replace(b"\\", b"\\\\")
            + tail
        )


def copy_payload(rows: Iterable[EventRow], *, device_id, received_at: dt.datetime) -> bytes:
    """All of ``rows`` as one COPY text (``bench/ingest.py`` sends exactly this in its raw COPY)."""
    return b"".join(copy_lines(rows, device_id=device_id, received_at=received_at))


def _copy(chunks: Iterable[bytes]) -> None:
    """One ``COPY``: on its own a statement is its own transaction; inside a caller's transaction it runs in a
    savepoint, so a missing partition can be created and the COPY retried."""
    if connection.in_atomic_block:
        with transaction.atomic():
            _copy_statement(chunks)
    else:
        _copy_statement(chunks)


def _copy_statement(chunks: Iterable[bytes]) -> None:
    columns = ", ".join(connection.ops.quote_name(column) for column in COPY_COLUMNS)
    statement = f"COPY {TelemetryEvent._meta.db_table} ({columns}) FROM STDIN"
    # The raw psycopg cursor's copy(); wrap_database_errors gives its errors Django's classes (IntegrityError).
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(statement) as copy,
    ):
        for data in chunks:
            copy.write(data)
