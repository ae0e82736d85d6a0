"""Raw events live in monthly PostgreSQL partitions, created ahead and dropped whole past the retention
(issue 14, Ingestion); on SQLite, retention deletes rows. The PostgreSQL tests run DDL inside the test's
transaction, which rolls it back."""

import datetime as dt

import pytest
from django.db import connection

from telemetry.models import TelemetryEvent
from telemetry.services import partitions
from telemetry.services.partitions import (
    MONTHS_AHEAD,
    add_months,
    month_start,
    partition_name,
    partitions_list,
    telemetry_events_expire,
    telemetry_partitions_ensure,
)
from telemetry.tasks import telemetry_partitions
from tests.conftest import requires_postgres
from tests.telemetry.conftest import event, iso, now_utc

pytestmark = pytest.mark.django_db


def test_month_arithmetic():
    assert add_months(dt.date(2026, 11, 1), 1) == dt.date(2026, 12, 1)
    assert add_months(dt.date(2026, 12, 1), 1) == dt.date(2027, 1, 1)
    assert add_months(dt.date(2026, 1, 1), -1) == dt.date(2025, 12, 1)
    assert add_months(dt.date(2026, 3, 1), 14) == dt.date(2027, 5, 1)
    assert month_start(dt.date(2026, 2, 28)) == dt.date(2026, 2, 1)
    assert partition_name(dt.date(2027, 1, 1)) == "telemetry_event_p2027_01"


def _rows_by_partition() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text, count(*) FROM telemetry_event GROUP BY 1")
        return dict(cursor.fetchall())


@requires_postgres
def test_migrate_leaves_a_partition_for_every_accepted_month_and_three_ahead(settings):
    today = partitions.utc_today()
    months = [month for _, month in partitions_list()]
    first = month_start(today - dt.timedelta(days=settings.TELEMETRY_RETENTION_DAYS))
    assert months[0] <= first
    assert months[-1] >= add_months(month_start(today), MONTHS_AHEAD)
    assert len(months) == len(set(months))
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'telemetry_event'")
        assert cursor.fetchone()[0] == "p"  # a partitioned table


@requires_postgres
def test_ensure_creates_the_missing_months_once(settings):
    future = add_months(month_start(partitions.utc_today()), 12)
    created = telemetry_partitions_ensure(today=future)
    assert partition_name(add_months(future, MONTHS_AHEAD)) in created
    assert telemetry_partitions_ensure(today=future) == []
    names = {name for name, _ in partitions_list()}
    assert set(created) <= names


@requires_postgres
def test_events_are_copied_into_the_partition_of_their_month(device_client, app):
    now = now_utc()
    last_month = (now.replace(day=1) - dt.timedelta(days=1)).replace(hour=12)
    response = device_client.post(
        "/v1/telemetry/events",
        {"events": [event(app.pk), event(app.pk), event(app.pk, timestamp=iso(last_month))]},
        format="json",
    )
    assert response.json()["received"] == 3
    assert _rows_by_partition() == {
        partition_name(now.date().replace(day=1)): 2,
        partition_name(last_month.date().replace(day=1)): 1,
    }


@requires_postgres
def test_a_row_that_finds_no_partition_creates_it_and_is_stored(device_client, app):
    current = partition_name(month_start(partitions.utc_today()))
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {current}")
    assert current not in {name for name, _ in partitions_list()}
    # 250 events: the COPY is fed in chunks of 100, and the whole of it is sent again once the partition exists
    response = device_client.post("/v1/telemetry/events", {"events": [event(app.pk)] * 250}, format="json")
    assert response.json() == {"received": 250, "rejected": []}
    assert _rows_by_partition() == {current: 250}


@requires_postgres
def test_retention_drops_whole_expired_partitions_and_keeps_the_rest(app, settings):
    settings.TELEMETRY_RETENTION_DAYS = 40
    today = dt.date(2026, 12, 10)  # oldest kept day: 2026-10-31
    telemetry_partitions_ensure(today=dt.date(2026, 8, 15))  # August on, as if beat had run since then
    for day in (dt.date(2026, 8, 20), dt.date(2026, 9, 30), dt.date(2026, 10, 15), dt.date(2026, 11, 2)):
        TelemetryEvent.objects.create(
            timestamp=dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC),
            app_id=app.pk,
            event_type="app.open",
            event_data={},
            received_at=now_utc(),
        )
    result = telemetry_events_expire(today=today)
    assert set(result.dropped_partitions) >= {"telemetry_event_p2026_08", "telemetry_event_p2026_09"}
    kept = {name for name, _ in partitions_list()}
    assert "telemetry_event_p2026_10" in kept  # partly within the retention: waits for next month
    assert "telemetry_event_p2026_11" in kept
    assert set(_rows_by_partition()) == {"telemetry_event_p2026_10", "telemetry_event_p2026_11"}
    assert telemetry_events_expire(today=today).dropped_partitions == ()


@requires_postgres
def test_the_beat_task_creates_ahead_and_drops_expired():
    result = telemetry_partitions.delay().get()
    assert result["created"] == []  # migrate already made them
    assert result["deleted_rows"] == 0


def test_off_postgresql_retention_deletes_the_expired_rows(app, settings):
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL drops partitions (tests above)")
    settings.TELEMETRY_RETENTION_DAYS = 10
    today = partitions.utc_today()
    for age in (12, 11, 10, 0):
        TelemetryEvent.objects.create(
            timestamp=dt.datetime.combine(today - dt.timedelta(days=age), dt.time(1), tzinfo=dt.UTC),
            app_id=app.pk,
            event_type="app.open",
            event_data={},
            received_at=now_utc(),
        )
    result = telemetry_events_expire(today=today)
    assert result.deleted_rows == 2 and result.dropped_partitions == ()
    assert TelemetryEvent.objects.count() == 2
    assert telemetry_partitions_ensure() == []


@requires_postgres
def test_a_crash_report_that_finds_no_partition_creates_it_and_is_counted(device_client, app):
    current = partition_name(month_start(partitions.utc_today()))
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {current}")
    body = {"app_id": str(app.pk), "app_version": "1.0.0", "crash_type": "E"}
    response = device_client.post("/v1/telemetry/crash", body, format="json")
    assert response.status_code == 201, response.content
    assert _rows_by_partition() == {current: 1}
    from telemetry.models import CrashGroup

    assert CrashGroup.objects.get().occurrences == 1
