"""Crash reports (``POST /v1/telemetry/crash``): grouped by fingerprint, counted by upsert.

A report joins the crash group of its app with the same fingerprint: SHA-256 of the crash type, the message
with its variable parts normalised (addresses, ids, numbers) and the top frames of the stack trace. The
group row is written with ``INSERT ... ON CONFLICT (app_id, fingerprint) DO UPDATE`` under the unique
constraint, so concurrent identical crashes always land in one group and every one is counted
(``occurrences`` is incremented in the database, never read-modified-written). The same statement shape
keeps the per-version counts and a ring of the last ``SAMPLES_PER_GROUP`` raw reports. Each report is also
a raw ``mosis.crash`` event, which is what the daily rollup counts as that day's crashes.

A group that did not exist before records the ``crash.new`` activity event, which fires the webhook.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass

from django.db import connection, transaction

from apps.models import App
from apps.services import activity_record
from mosis.core.errors import ApplicationError, ErrorCode

from .. import metrics
from ..constants import CONTEXT_MAX_BYTES, CRASH_EVENT_TYPE, FINGERPRINT_FRAMES, SAMPLES_PER_GROUP
from ..models import CrashGroup, CrashGroupVersion, CrashSample
from .ingest import (
    EventRejected,
    EventRow,
    bounded_json_object,
    clamped_timestamp,
    events_store,
    ingestion_window,
    reportable_app_ids,
)

# --- fingerprint -------------------------------------------------------------------------------------------

_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_ADDRESS = re.compile(r"\b0[xX][0-9a-fA-F]+\b")
_LONG_HEX = re.compile(r"\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}\b")  # hashes, object ids
_NUMBER = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
PYTHON_TRACEBACK_HEADER = "Traceback (most recent call last):"


def normalise(text: str) -> str:
    """``text`` with what varies between occurrences of one crash replaced: UUIDs → ``<uuid>``, addresses
    (``0x7f3a…``) → ``<addr>``, long hex ids → ``<hex>``, numbers → ``<n>``; whitespace collapsed."""
    text = _UUID.sub("<uuid>", text)
    text = _ADDRESS.sub("<addr>", text)
    text = _LONG_HEX.sub("<hex>", text)
    text = _NUMBER.sub("<n>", text)
    return _SPACE.sub(" ", text).strip()


def top_frames(stack_trace: str, count: int = FINGERPRINT_FRAMES) -> list[str]:
    """The ``count`` innermost frames, normalised. Most formats (Java, Kotlin, JavaScript, native) list the
    innermost frame first: the first non-blank lines. A Python traceback lists it last: its ``File ...``
    lines, from the end."""
    lines = [normalise(line) for line in stack_trace.splitlines() if line.strip()]
    if lines and lines[0] == PYTHON_TRACEBACK_HEADER:
        frames = [line for line in lines[1:] if line.startswith("File ")]
        return frames[::-1][:count]
    return lines[:count]


def crash_fingerprint(*, crash_type: str, message: str, stack_trace: str) -> str:
    parts = [crash_type.strip(), normalise(message), *top_frames(stack_trace)]
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


# --- submit ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrashResult:
    group_id: uuid.UUID
    created: bool  # this report opened the group
    occurrences: int


def _prep(model, name: str, value):
    return model._meta.get_field(name).get_db_prep_save(value, connection)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _later(table: str, column: str) -> str:
    """The later of the stored and the incoming value (portable GREATEST for PostgreSQL and SQLite)."""
    return (
        f'CASE WHEN excluded."{column}" > {table}."{column}" '
        f'THEN excluded."{column}" ELSE {table}."{column}" END'
    )


def _earlier(table: str, column: str) -> str:
    return (
        f'CASE WHEN excluded."{column}" < {table}."{column}" '
        f'THEN excluded."{column}" ELSE {table}."{column}" END'
    )


def _upsert(model, columns: dict, *, conflict: tuple[str, ...], update_sql: str, returning: str = ""):
    table = _table(model)
    names = ", ".join(f'"{name}"' for name in columns)
    values = ", ".join(["%s"] * len(columns))
    sql = (
        f"INSERT INTO {table} ({names}) VALUES ({values}) "  # noqa: S608 - names are ours, values bound
        f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {update_sql}"
    )
    if returning:
        sql += f" RETURNING {returning}"
    field_names = {name: name.removesuffix("_id") if name.endswith("_id") else name for name in columns}
    params = [_prep(model, field_names[name], value) for name, value in columns.items()]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() if returning else None


def crash_report_submit(
    *,
    app_id,
    app_version: str,
    crash_type: str,
    message: str = "",
    stack_trace: str = "",
    context: dict | None = None,
    timestamp: str | None = None,
    device=None,
    owner=None,
) -> CrashResult:
    """Count one crash report into its group (created on first sight) and return the group.

    Exactly one principal, as for events: ``device`` (any existing app) or ``owner`` (their own apps; an
    unknown or foreign ``app_id`` is the same 400). ``context`` is a JSON object of at most
    ``CONTEXT_MAX_BYTES``; ``timestamp`` is clamped like an event's (after now → now; older than the
    retention → 400). One transaction: group upsert (``RETURNING`` its id and new count: a count of 1 means
    this report created it), version upsert, sample ring upsert, the raw ``mosis.crash`` event and, for a
    new group, the ``crash.new`` activity event (its webhook is sent after commit).
    """
    if (device is None) == (owner is None):
        raise ValueError("crash_report_submit needs exactly one of device= or owner=")
    now, oldest = ingestion_window()
    try:
        moment = clamped_timestamp(timestamp, now=now, oldest=oldest)
        bounded_json_object(
            context if context is not None else {}, name="context", max_bytes=CONTEXT_MAX_BYTES
        )
    except EventRejected as rejection:
        field, _, text = str(rejection).partition(": ")
        raise ApplicationError(ErrorCode.VALIDATION_ERROR, str(rejection), {field: [text]})
    app_uuid = app_id if isinstance(app_id, uuid.UUID) else uuid.UUID(str(app_id))
    if app_uuid not in reportable_app_ids([app_uuid], owner=owner):
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR, "app_id: unknown app.", {"app_id": ["Unknown app."]}
        )
    context = context if context is not None else {}
    fingerprint = crash_fingerprint(crash_type=crash_type, message=message, stack_trace=stack_trace)
    device_id = device.pk if device is not None else None
    groups = _table(CrashGroup)
    versions = _table(CrashGroupVersion)
    with transaction.atomic():
        group_id, occurrences = _upsert(
            CrashGroup,
            {
                "id": uuid.uuid4(),
                "created_at": now,
                "updated_at": now,
                "app_id": app_uuid,
                "fingerprint": fingerprint,
                "crash_type": crash_type,
                "message": message,
                "stack_trace": stack_trace,
                "context": context,
                "app_version": app_version,
                "occurrences": 1,
                "first_seen": moment,
                "last_seen": moment,
            },
            conflict=("app_id", "fingerprint"),
            update_sql=(
                f'"occurrences" = {groups}."occurrences" + 1, '
                f'"first_seen" = {_earlier(groups, "first_seen")}, '
                f'"last_seen" = {_later(groups, "last_seen")}, '
                f'"app_version" = CASE WHEN excluded."last_seen" >= {groups}."last_seen" '
                f'THEN excluded."app_version" ELSE {groups}."app_version" END, '
                f'"updated_at" = excluded."updated_at"'
            ),
            returning='"id", "occurrences"',
        )
        group_id = group_id if isinstance(group_id, uuid.UUID) else uuid.UUID(str(group_id))
        _upsert(
            CrashGroupVersion,
            {
                "group_id": group_id,
                "app_id": app_uuid,
                "app_version": app_version,
                "occurrences": 1,
                "first_seen": moment,
                "last_seen": moment,
            },
            conflict=("group_id", "app_version"),
            update_sql=(
                f'"occurrences" = {versions}."occurrences" + 1, '
                f'"first_seen" = {_earlier(versions, "first_seen")}, '
                f'"last_seen" = {_later(versions, "last_seen")}'
            ),
        )
        _upsert(
            CrashSample,
            {
                "group_id": group_id,
                "slot": (occurrences - 1) % SAMPLES_PER_GROUP,
                "app_version": app_version,
                "message": message,
                "stack_trace": stack_trace,
                "context": context,
                "timestamp": moment,
                "device_id": device_id,
            },
            conflict=("group_id", "slot"),
            update_sql=", ".join(
                f'"{name}" = excluded."{name}"'
                for name in ("app_version", "message", "stack_trace", "context", "timestamp", "device_id")
            ),
        )
        events_store(
            rows=[
                EventRow(
                    timestamp=moment,
                    app_id=app_uuid,
                    event_type=CRASH_EVENT_TYPE,
                    event_data=f'{{"crash_group_id":"{group_id}"}}',
                    data={"crash_group_id": str(group_id)},
                )
            ],
            device_id=device_id,
            received_at=now,
        )
        created = occurrences == 1
        if created:
            app = App.objects.get(pk=app_uuid)
            activity_record(
                type="crash.new",
                app=app,
                data={
                    "crash_group_id": str(group_id),
                    "crash_type": crash_type,
                    "message": message[:500],
                    "app_version": app_version,
                    "first_seen": moment.isoformat(),
                },
            )
    metrics.CRASH_REPORTS.labels(group="new" if created else "existing").inc()
    return CrashResult(group_id=group_id, created=created, occurrences=occurrences)
