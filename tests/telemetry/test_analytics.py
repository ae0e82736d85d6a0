"""Daily rollups and ``GET /v1/apps/{id}/analytics`` (issue 14, Reading it): downloads from the store's
counters, active users = distinct devices with events that day, crashes; one row per day, zero-filled."""

import datetime as dt

import pytest

from store.downloads.services import download_record
from telemetry.models import AppDailyStats, TelemetryEvent
from telemetry.services import crash_report_submit, events_ingest, stats_rollup_days
from telemetry.services.partitions import utc_today
from telemetry.tasks import telemetry_rollup
from tests.factories import community_device, community_published_app
from tests.telemetry.conftest import iso

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(user):
    return community_published_app("com.example.analysed", owner=user)


def at(day: dt.date, hour: int = 12) -> str:
    return iso(dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC))


def events_on(app, day, *, devices, per_device=1):
    for device in devices:
        events_ingest(
            events=[{"app_id": str(app.pk), "event_type": "app.open", "timestamp": at(day)}] * per_device,
            device=device,
        )


def stats(app, day) -> tuple:
    row = AppDailyStats.objects.filter(app=app, day=day).first()
    return (row.downloads, row.active_users, row.crashes) if row else None


def fold_downloads():
    from store.downloads.services import downloads_rollup

    while downloads_rollup():
        pass


def test_a_day_rolls_up_downloads_distinct_devices_and_crashes(published, user):
    today = utc_today()
    devices = [community_device()[0] for _ in range(3)]
    events_on(published, today, devices=devices[:2], per_device=3)  # 2 devices, 6 events
    events_ingest(events=[{"app_id": str(published.pk), "event_type": "ci.ping"}], owner=user)  # no device
    for _ in range(2):
        crash_report_submit(app_id=published.pk, app_version="1.0.0", crash_type="E", device=devices[2])
    version = published.versions.get()
    for client in ("a", "b", "b"):
        download_record(version=version, client_hash=client)
    fold_downloads()

    report = stats_rollup_days(start=today, end=today)

    assert report.rows == 1 and report.downloads_only_days == []
    assert stats(published, today) == (2, 3, 2)  # the crashing device is an active user too


def test_a_rerun_changes_nothing_and_new_events_are_counted(published):
    today = utc_today()
    device, _ = community_device()
    events_on(published, today, devices=[device])
    stats_rollup_days(start=today, end=today)
    stats_rollup_days(start=today, end=today)
    assert stats(published, today) == (0, 1, 0)
    events_on(published, today, devices=[community_device()[0]])
    stats_rollup_days(start=today, end=today)
    assert stats(published, today) == (0, 2, 0)


def test_events_count_on_the_utc_day_they_happened(published):
    today = utc_today()
    yesterday = today - dt.timedelta(days=1)
    device, _ = community_device()
    events_ingest(
        events=[
            {"app_id": str(published.pk), "event_type": "a", "timestamp": at(yesterday, 23)},
            {"app_id": str(published.pk), "event_type": "a", "timestamp": at(today, 0)},
        ],
        device=device,
    )
    other, _ = community_device()
    events_on(published, yesterday, devices=[other])
    telemetry_rollup.delay().get()  # beat's hourly task: yesterday and today
    assert stats(published, yesterday) == (0, 2, 0)
    assert stats(published, today) == (0, 1, 0)


def test_a_day_with_nothing_left_is_zeroed(published):
    today = utc_today()
    AppDailyStats.objects.create(app=published, day=today, downloads=4, active_users=5, crashes=6)
    stats_rollup_days(start=today, end=today)
    assert stats(published, today) == (0, 0, 0)


def test_days_past_the_retention_keep_their_active_users_and_crashes(published, settings):
    settings.TELEMETRY_RETENTION_DAYS = 10
    old = utc_today() - dt.timedelta(days=20)
    AppDailyStats.objects.create(app=published, day=old, downloads=0, active_users=7, crashes=3)
    version = published.versions.get()
    from store.models import DownloadDaily

    DownloadDaily.objects.create(version=version, app=published, day=old, count=9)
    report = stats_rollup_days(start=old, end=old)
    assert report.downloads_only_days == [old]
    assert stats(published, old) == (9, 7, 3)


def test_events_of_a_deleted_app_are_skipped(published, app):
    today = utc_today()
    device, _ = community_device()
    events_on(app, today, devices=[device])
    app_id = app.pk
    app.delete()
    assert TelemetryEvent.objects.filter(app_id=app_id).exists()
    stats_rollup_days(start=today, end=today)
    assert not AppDailyStats.objects.filter(app_id=app_id).exists()


# --- the API --------------------------------------------------------------------------------------------


def url(app):
    return f"/v1/apps/{app.pk}/analytics"


def test_one_row_per_day_zero_filled(auth_client, published):
    day = dt.date(2026, 11, 10)
    AppDailyStats.objects.create(app=published, day=day, downloads=12, active_users=5, crashes=1)
    response = auth_client.get(url(published), {"start_date": "2026-11-09", "end_date": "2026-11-11"})
    assert response.status_code == 200
    assert response.json() == {
        "data": [
            {"date": "2026-11-09", "downloads": 0, "active_users": 0, "crashes": 0},
            {"date": "2026-11-10", "downloads": 12, "active_users": 5, "crashes": 1},
            {"date": "2026-11-11", "downloads": 0, "active_users": 0, "crashes": 0},
        ]
    }


def test_only_the_metrics_asked_for(auth_client, published):
    AppDailyStats.objects.create(
        app=published, day=dt.date(2026, 11, 10), downloads=12, active_users=5, crashes=1
    )
    body = auth_client.get(
        url(published), {"start_date": "2026-11-10", "end_date": "2026-11-10", "metrics": "crashes,downloads"}
    ).json()
    assert body == {"data": [{"date": "2026-11-10", "downloads": 12, "crashes": 1}]}


def test_the_default_range_is_the_last_30_days(auth_client, published):
    data = auth_client.get(url(published)).json()["data"]
    assert len(data) == 30
    assert data[-1]["date"] == utc_today().isoformat()


def test_a_range_of_366_days_is_accepted_and_367_refused(auth_client, published):
    ok = auth_client.get(url(published), {"start_date": "2025-01-01", "end_date": "2026-01-01"})
    assert ok.status_code == 200 and len(ok.json()["data"]) == 366
    too_long = auth_client.get(url(published), {"start_date": "2025-01-01", "end_date": "2026-01-02"})
    assert too_long.status_code == 400
    assert too_long.json()["error"]["details"] == {"end_date": ["The range may span at most 366 days."]}


@pytest.mark.parametrize(
    "query,field",
    [
        ({"start_date": "2026-11-12", "end_date": "2026-11-10"}, "start_date"),
        ({"start_date": "2026-13-01"}, "start_date"),
        ({"end_date": "yesterday"}, "end_date"),
        ({"start_date": ""}, "start_date"),
        ({"metrics": "downloads,revenue"}, "metrics"),
        ({"metrics": ""}, "metrics"),
    ],
)
def test_a_bad_range_or_metric_is_a_400(auth_client, published, query, field):
    response = auth_client.get(url(published), query)
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_an_end_date_at_the_start_of_time_does_not_overflow(auth_client, published):
    response = auth_client.get(url(published), {"end_date": "0001-01-03"})
    assert response.status_code == 200
    assert [row["date"] for row in response.json()["data"]] == ["0001-01-01", "0001-01-02", "0001-01-03"]


def test_another_developers_app_is_404_and_reading_needs_telemetry_read(
    other_client, key_client, device_client, published
):
    assert other_client.get(url(published)).status_code == 404
    assert key_client("telemetry:read").get(url(published)).status_code == 200
    response = key_client("apps:read", "telemetry:write").get(url(published))
    assert response.status_code == 403
    assert response.json()["error"]["details"] == {"required_scope": ["telemetry:read"]}
    assert device_client.get(url(published)).status_code == 401


def test_the_answer_costs_the_same_queries_for_one_day_and_a_year(
    auth_client, published, django_assert_num_queries
):
    query = {"start_date": "2026-11-10", "end_date": "2026-11-10"}
    auth_client.get(url(published), query)
    with django_assert_num_queries(3) as one:  # the JWT user, the app, the stats
        auth_client.get(url(published), query)
    for offset in range(40):
        AppDailyStats.objects.create(app=published, day=dt.date(2026, 1, 1) + dt.timedelta(days=offset))
    with django_assert_num_queries(len(one)):
        assert (
            len(
                auth_client.get(
                    url(published), {"start_date": "2026-01-01", "end_date": "2026-12-31"}
                ).json()["data"]
            )
            == 365
        )
