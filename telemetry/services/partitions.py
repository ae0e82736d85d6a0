"""Monthly partitions of ``telemetry_event`` and retention (PostgreSQL); plain deletes elsewhere.

The table is ``PARTITION BY RANGE ("timestamp")`` with one partition per UTC month, named
``telemetry_event_pYYYY_MM``. Ingestion accepts events from ``TELEMETRY_RETENTION_DAYS`` ago up to now, so
``telemetry_partitions_ensure`` keeps a partition for every month from the oldest accepted day to
``MONTHS_AHEAD`` months after the current one. Retention drops a partition once all of it is older than the
retention (a ``DROP TABLE``: instant, no dead rows, no vacuum), never a ``DELETE``.

Both run from beat (``telemetry.tasks.telemetry_partitions_maintain``, daily) and after every ``migrate``;
ingestion also calls ``telemetry_partitions_ensure`` when a row finds no partition, so a stopped beat never
loses an event.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ..models import TelemetryEvent

logger = logging.getLogger("mosis.telemetry")

PARENT_TABLE = "telemetry_event"
PARTITION_NAME_RE = re.compile(r"^telemetry_event_p(\d{4})_(\d{2})$")
MONTHS_AHEAD = 3
# One lock id for every partition DDL, so two processes never create or drop the same partition at once.
ADVISORY_LOCK_ID = int.from_bytes(b"tlm-part", "big") & 0x7FFF_FFFF_FFFF_FFFF
# DDL on a partition locks the parent briefly; never queue behind a long query for more than this.
LOCK_TIMEOUT = "5s"


def utc_today() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def partition_name(month: dt.date) -> str:
    return f"{PARENT_TABLE}_p{month.year:04d}_{month.month:02d}"


def oldest_retained_day(today: dt.date | None = None) -> dt.date:
    """The first UTC day whose events are kept (and accepted at ingestion)."""
    return (today or utc_today()) - dt.timedelta(days=settings.TELEMETRY_RETENTION_DAYS)


def is_partitioned() -> bool:
    return connection.vendor == "postgresql"


def partitions_list() -> list[tuple[str, dt.date]]:
    """The monthly partitions that exist, oldest first: ``[(name, first day of its month)]``."""
    if not is_partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [PARENT_TABLE],
        )
        names = [row[0] for row in cursor.fetchall()]
    months = []
    for name in names:
        match = PARTITION_NAME_RE.match(name)
        if match:
            months.append((name, dt.date(int(match.group(1)), int(match.group(2)), 1)))
    return sorted(months, key=lambda item: item[1])


def _locked_ddl(statements: list[str]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_ID])
        for statement in statements:
            cursor.execute(statement)


def telemetry_partitions_ensure(*, today: dt.date | None = None) -> list[str]:
    """Create the missing monthly partitions, from the month of the oldest accepted day to ``MONTHS_AHEAD``
    months after today's. Idempotent and safe to run concurrently (advisory lock, ``IF NOT EXISTS``).
    Returns the names created (always ``[]`` off PostgreSQL)."""
    if not is_partitioned():
        return []
    today = today or utc_today()
    first = month_start(oldest_retained_day(today))
    last = add_months(month_start(today), MONTHS_AHEAD)
    existing = {name for name, _ in partitions_list()}
    wanted = []
    month = first
    while month <= last:
        if partition_name(month) not in existing:
            wanted.append(month)
        month = add_months(month, 1)
    if not wanted:
        return []
    statements = [
        f"CREATE TABLE IF NOT EXISTS {partition_name(month)} PARTITION OF {PARENT_TABLE} "  # noqa: S608
        f"FOR VALUES FROM ('{month.isoformat()} 00:00:00+00') TO ('{add_months(month, 1).isoformat()} 00:00:00+00')"
        for month in wanted
    ]
    _locked_ddl(statements)
    created = [partition_name(month) for month in wanted]
    logger.info("created telemetry partitions %s", ", ".join(created))
    return created


@dataclass(frozen=True)
class RetentionResult:
    dropped_partitions: tuple[str, ...] = ()
    deleted_rows: int = 0  # off PostgreSQL, where there are no partitions to drop


def telemetry_events_expire(*, today: dt.date | None = None) -> RetentionResult:
    """Enforce ``TELEMETRY_RETENTION_DAYS``: on PostgreSQL drop every partition whose whole month is older
    than the oldest retained day (whole partitions only: a partly retained month waits for next month);
    elsewhere delete the expired rows."""
    cutoff = oldest_retained_day(today)
    if not is_partitioned():
        moment = dt.datetime.combine(cutoff, dt.time.min, tzinfo=dt.UTC)
        deleted, _ = TelemetryEvent.objects.filter(timestamp__lt=moment).delete()
        return RetentionResult(deleted_rows=deleted)
    expired = [name for name, month in partitions_list() if add_months(month, 1) <= cutoff]
    if expired:
        _locked_ddl([f"DROP TABLE IF EXISTS {name}" for name in expired])
        logger.info("dropped expired telemetry partitions %s", ", ".join(expired))
    return RetentionResult(dropped_partitions=tuple(expired))


def telemetry_partitions_maintain(*, today: dt.date | None = None) -> dict:
    """Beat's daily work: partitions ahead, then retention. Returns what it did."""
    created = telemetry_partitions_ensure(today=today)
    expired = telemetry_events_expire(today=today)
    return {
        "created": created,
        "dropped": list(expired.dropped_partitions),
        "deleted_rows": expired.deleted_rows,
    }
