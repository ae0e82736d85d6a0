"""Crash reports (``POST /v1/telemetry/crash``): grouped by fingerprint, counted by upsert.

A report joins the crash group of its app with the same fingerprint: SHA-256 of the crash type, the message
with its variable parts normalised (addresses, ids, numbers) and the top frames of the stack trace. Counting
never reads and writes back: ``occurrences`` is incremented in the database. On PostgreSQL a report is one
statement (``_JOIN_HEAD`` or ``_OPEN_HEAD``, with ``_TAIL``, below): an update of the existing group in
autocommit, or, when none matched, an ``INSERT ... ON CONFLICT (app_id, fingerprint) DO UPDATE`` under the unique constraint, so
concurrent identical crashes always land in one group and every one is counted. The same statement keeps the
per-version counts, a ring of the last ``SAMPLES_PER_GROUP`` raw reports, and the raw ``mosis.crash`` event
the daily rollup counts as that day's crashes. SQLite (embedded mode) runs the same upserts one by one.

A group that did not exist before records the ``crash.new`` activity event, which fires the webhook.
"""

from __future__ import annotations

import functools
import hashlib
import re
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction

from apps.models import App
from apps.services import activity_record
from mosis.core.db import fetch_one
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
from .partitions import telemetry_partitions_ensure

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
    lines, from the end. Only those lines are normalised (a trace may have thousands)."""
    lines = stack_trace.splitlines()
    first = next((line.strip() for line in lines if line.strip()), "")
    if first == PYTHON_TRACEBACK_HEADER:
        frames = []
        for line in reversed(lines):
            if line.strip().startswith("File "):
                frames.append(normalise(line))
                if len(frames) == count:
                    break
        return frames
    frames = []
    for line in lines:
        if line.strip():
            frames.append(normalise(line))
            if len(frames) == count:
                break
    return frames


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


@dataclass(frozen=True)
class _Report:
    """One validated report, ready to count."""

    app_id: uuid.UUID
    owner_id: object  # the developer a developer credential belongs to (their apps only), else None
    device_id: object
    fingerprint: str
    crash_type: str
    message: str
    stack_trace: str
    context: dict
    context_json: str  # ``context`` as compact JSON (bounded_json_object's): PostgreSQL reads it as jsonb
    app_version: str
    moment: object  # when it happened (clamped)
    now: object  # when it was received


# PostgreSQL: a report is counted by one statement. Data-modifying CTEs all see the group row the first one
# wrote through its RETURNING (the foreign keys to it are checked at the end of the statement): the group,
# then its version count, the sample slot and the raw crash event.
#
# Most reports join a group that exists: the join statement updates it and runs on its own, in autocommit, so its
# row locks last only as long as the statement (never while the web process gets round to a COMMIT: under
# load that wait, not the work, is what serialises reports of one crash). When no group matched (a new crash,
# or an app the principal may not report for), the open statement inserts it under the unique constraint (a
# concurrent first report of the same crash turns into an update) in a transaction that also records the
# ``crash.new`` activity event.
_JOIN_HEAD = """
WITH grp AS (
    UPDATE telemetry_crashgroup AS g SET
        occurrences = g.occurrences + 1,
        first_seen = LEAST(g.first_seen, %(moment)s::timestamptz),
        last_seen = GREATEST(g.last_seen, %(moment)s::timestamptz),
        app_version = CASE WHEN %(moment)s::timestamptz >= g.last_seen
            THEN %(app_version)s::varchar ELSE g.app_version END,
        updated_at = %(now)s::timestamptz
    WHERE g.app_id = %(app_id)s::uuid AND g.fingerprint = %(fingerprint)s::varchar {owner_filter}
    RETURNING g.id, g.occurrences
)"""
_JOIN_OWNER_FILTER = (
    "AND EXISTS (SELECT 1 FROM apps_app WHERE id = %(app_id)s::uuid AND owner_id = %(owner_id)s::uuid)"
)
_OPEN_HEAD = """
WITH app AS (
    SELECT id FROM apps_app WHERE id = %(app_id)s::uuid {owner_filter}
), grp AS (
    INSERT INTO telemetry_crashgroup AS g (
        id, created_at, updated_at, app_id, fingerprint, crash_type, message, stack_trace, context,
        app_version, occurrences, first_seen, last_seen
    )
    SELECT %(group_id)s::uuid, %(now)s::timestamptz, %(now)s::timestamptz, app.id, %(fingerprint)s::varchar,
        %(crash_type)s::varchar, %(message)s::text, %(stack_trace)s::text, %(context)s::jsonb,
        %(app_version)s::varchar, 1, %(moment)s::timestamptz, %(moment)s::timestamptz
    FROM app
    ON CONFLICT (app_id, fingerprint) DO UPDATE SET
        occurrences = g.occurrences + 1,
        first_seen = LEAST(g.first_seen, EXCLUDED.first_seen),
        last_seen = GREATEST(g.last_seen, EXCLUDED.last_seen),
        app_version = CASE WHEN EXCLUDED.last_seen >= g.last_seen THEN EXCLUDED.app_version ELSE g.app_version END,
        updated_at = EXCLUDED.updated_at
    RETURNING g.id, g.occurrences
)"""
_OPEN_OWNER_FILTER = "AND owner_id = %(owner_id)s::uuid"
_TAIL = """, version_count AS (
    INSERT INTO telemetry_crashgroupversion AS v (group_id, app_id, app_version, occurrences, first_seen, last_seen)
    SELECT grp.id, %(app_id)s::uuid, %(app_version)s::varchar, 1, %(moment)s::timestamptz, %(moment)s::timestamptz
    FROM grp
    ON CONFLICT (group_id, app_version) DO UPDATE SET
        occurrences = v.occurrences + 1,
        first_seen = LEAST(v.first_seen, EXCLUDED.first_seen),
        last_seen = GREATEST(v.last_seen, EXCLUDED.last_seen)
), sample AS (
    INSERT INTO telemetry_crashsample AS s (
        group_id, slot, app_version, message, stack_trace, context, "timestamp", device_id
    )
    SELECT grp.id, MOD(grp.occurrences - 1, %(samples)s::int), %(app_version)s::varchar, %(message)s::text,
        %(stack_trace)s::text, %(context)s::jsonb, %(moment)s::timestamptz, %(device_id)s::uuid
    FROM grp
    ON CONFLICT (group_id, slot) DO UPDATE SET
        app_version = EXCLUDED.app_version, message = EXCLUDED.message, stack_trace = EXCLUDED.stack_trace,
        context = EXCLUDED.context, "timestamp" = EXCLUDED."timestamp", device_id = EXCLUDED.device_id
), crash_event AS (
    INSERT INTO telemetry_event ("timestamp", app_id, device_id, event_type, event_data, received_at)
    SELECT %(moment)s::timestamptz, %(app_id)s::uuid, %(device_id)s::uuid, %(event_type)s::varchar,
        jsonb_build_object('crash_group_id', grp.id::text), %(now)s::timestamptz
    FROM grp
)
SELECT id, occurrences FROM grp
"""
_NAMED = re.compile(r"%\((\w+)\)s")


@functools.cache
def _statement(kind: str, *, with_owner: bool) -> tuple[str, tuple[str, ...]]:
    """The ``join`` or ``open`` statement with positional placeholders (what ``mosis.core.db.fetch_one``
    prepares, once per connection: planning it costs PostgreSQL more than running it) and the names of its
    parameters in order."""
    head, owner_filter = (
        (_JOIN_HEAD, _JOIN_OWNER_FILTER) if kind == "join" else (_OPEN_HEAD, _OPEN_OWNER_FILTER)
    )
    sql = head.format(owner_filter=owner_filter if with_owner else "") + _TAIL
    return _NAMED.sub("%s", sql), tuple(_NAMED.findall(sql))


def _run(kind: str, report: _Report) -> tuple[uuid.UUID, int] | None:
    sql, names = _statement(kind, with_owner=report.owner_id is not None)
    values = {
        "app_id": report.app_id,
        "owner_id": report.owner_id,
        "group_id": uuid.uuid4(),
        "now": report.now,
        "moment": report.moment,
        "fingerprint": report.fingerprint,
        "crash_type": report.crash_type,
        "message": report.message,
        "stack_trace": report.stack_trace,
        "context": report.context_json,
        "app_version": report.app_version,
        "device_id": report.device_id,
        "samples": SAMPLES_PER_GROUP,
        "event_type": CRASH_EVENT_TYPE,
    }
    return fetch_one(sql, [values[name] for name in names])


def _count_portable(report: _Report) -> tuple[uuid.UUID, int] | None:
    """The same count as ``_count_postgres`` in four statements (SQLite has no data-modifying CTEs)."""
    if report.app_id not in reportable_app_ids([report.app_id], owner=report.owner_id):
        return None
    groups = _table(CrashGroup)
    versions = _table(CrashGroupVersion)
    group_id, occurrences = _upsert(
        CrashGroup,
        {
            "id": uuid.uuid4(),
            "created_at": report.now,
            "updated_at": report.now,
            "app_id": report.app_id,
            "fingerprint": report.fingerprint,
            "crash_type": report.crash_type,
            "message": report.message,
            "stack_trace": report.stack_trace,
            "context": report.context,
            "app_version": report.app_version,
            "occurrences": 1,
            "first_seen": report.moment,
            "last_seen": report.moment,
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
            "app_id": report.app_id,
            "app_version": report.app_version,
            "occurrences": 1,
            "first_seen": report.moment,
            "last_seen": report.moment,
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
            "app_version": report.app_version,
            "message": report.message,
            "stack_trace": report.stack_trace,
            "context": report.context,
            "timestamp": report.moment,
            "device_id": report.device_id,
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
                timestamp=report.moment,
                app_id=report.app_id,
                event_type=CRASH_EVENT_TYPE,
                event_data=f'{{"crash_group_id":"{group_id}"}}'.encode(),
                data={"crash_group_id": str(group_id)},
            )
        ],
        device_id=report.device_id,
        received_at=report.now,
    )
    return group_id, occurrences


def _record_crash_new(report: _Report, group_id: uuid.UUID) -> None:
    activity_record(
        type="crash.new",
        app=App.objects.get(pk=report.app_id),
        data={
            "crash_group_id": str(group_id),
            "crash_type": report.crash_type,
            "message": report.message[:500],
            "app_version": report.app_version,
            "first_seen": report.moment.isoformat(),
        },
    )


def _count(report: _Report) -> tuple[uuid.UUID, int, bool] | None:
    """Count the report; (group id, occurrences, created) or None for an app the principal may not report
    for. A report that opens a group records ``crash.new`` in the same transaction."""
    if connection.vendor == "postgresql":
        joined = _run("join", report)
        if joined is not None:
            return _as_uuid(joined[0]), joined[1], False
        with transaction.atomic():
            opened = _run("open", report)
            if opened is None:
                return None
            group_id, occurrences = _as_uuid(opened[0]), opened[1]
            if occurrences == 1:
                _record_crash_new(report, group_id)
        return group_id, occurrences, occurrences == 1
    with transaction.atomic():
        counted = _count_portable(report)
        if counted is None:
            return None
        group_id, occurrences = _as_uuid(counted[0]), counted[1]
        if occurrences == 1:
            _record_crash_new(report, group_id)
    return group_id, occurrences, occurrences == 1


def _as_uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))  # SQLite returns text


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
    retention → 400). Atomic: the group's count (``RETURNING`` its id and new count: a count of 1 means this
    report created it), its version count, the sample slot, the raw ``mosis.crash`` event (on PostgreSQL one
    statement) and, for a new group, the ``crash.new`` activity event (its webhook is sent after commit). A
    crash event that finds no partition creates it and the report is counted again from scratch.
    """
    if (device is None) == (owner is None):
        raise ValueError("crash_report_submit needs exactly one of device= or owner=")
    now, oldest = ingestion_window()
    context = context if context is not None else {}
    try:
        moment = clamped_timestamp(timestamp, now=now, oldest=oldest)
        context_json = bounded_json_object(context, name="context", max_bytes=CONTEXT_MAX_BYTES).decode()
    except EventRejected as rejection:
        field, _, text = str(rejection).partition(": ")
        raise ApplicationError(ErrorCode.VALIDATION_ERROR, str(rejection), {field: [text]})
    report = _Report(
        app_id=app_id if isinstance(app_id, uuid.UUID) else uuid.UUID(str(app_id)),
        owner_id=owner.pk if owner is not None else None,
        device_id=device.pk if device is not None else None,
        fingerprint=crash_fingerprint(crash_type=crash_type, message=message, stack_trace=stack_trace),
        crash_type=crash_type,
        message=message,
        stack_trace=stack_trace,
        context=context,
        context_json=context_json,
        app_version=app_version,
        moment=moment,
        now=now,
    )
    try:
        counted = _count(report)
    except IntegrityError as error:
        if "no partition" not in str(error):
            raise
        telemetry_partitions_ensure()
        counted = _count(report)
    if counted is None:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR, "app_id: unknown app.", {"app_id": ["Unknown app."]}
        )
    group_id, occurrences, created = counted
    metrics.CRASH_REPORTS.labels(group="new" if created else "existing").inc()
    return CrashResult(group_id=group_id, created=created, occurrences=occurrences)
