"""``manage.py rollup_stats --from --to`` (SPEC §10, issue 14): the one command that recomputes a day range of
downloads (through the store's rollup), active users and crashes; idempotent."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from store.downloads.services import download_record
from store.models import AppListing, DownloadDaily, DownloadEvent
from telemetry.models import AppDailyStats
from telemetry.services import crash_report_submit, events_ingest
from telemetry.services.partitions import utc_today
from tests.factories import community_device
from tests.store.conftest import make_published_app

pytestmark = pytest.mark.django_db


def test_rollup_stats_recounts_downloads_and_the_listing_totals():
    app = make_published_app(package_id="com.example.counted")
    version = app.versions.get()
    today = utc_today()
    yesterday = today - dt.timedelta(days=1)
    for client in ("a", "b", "c"):
        download_record(version=version, client_hash=client, day=yesterday)
    download_record(version=version, client_hash="a", day=today)
    download_record(version=version, client_hash="a", day=today)  # same client, same day: counted once

    call_command("rollup_stats", "--from", str(yesterday), "--to", str(today), stdout=StringIO())

    assert DownloadEvent.objects.filter(rolled_up=False).count() == 0
    assert dict(DownloadDaily.objects.filter(version=version).values_list("day", "count")) == {
        yesterday: 3,
        today: 1,
    }
    listing = AppListing.objects.get(app=app)
    assert (listing.downloads_total, listing.downloads_recent) == (4, 4)
    assert dict(AppDailyStats.objects.filter(app=app).values_list("day", "downloads")) == {
        yesterday: 3,
        today: 1,
    }


def test_rollup_stats_rolls_up_active_users_and_crashes_and_can_be_rerun():
    app = make_published_app(package_id="com.example.crashy")
    today = utc_today()
    yesterday = today - dt.timedelta(days=1)
    noon = dt.datetime.combine(yesterday, dt.time(12), tzinfo=dt.UTC).isoformat()
    first, _ = community_device()
    second, _ = community_device()
    events_ingest(
        events=[{"app_id": str(app.pk), "event_type": "app.open", "timestamp": noon}] * 2, device=first
    )
    crash_report_submit(app_id=app.pk, app_version="1.0.0", crash_type="E", timestamp=noon, device=second)
    out = StringIO()

    call_command("rollup_stats", "--from", str(yesterday), "--to", str(today), stdout=out)
    call_command("rollup_stats", "--from", str(yesterday), "--to", str(today), stdout=StringIO())

    row = AppDailyStats.objects.get(app=app, day=yesterday)
    assert (row.downloads, row.active_users, row.crashes) == (0, 2, 1)
    assert "rolled up 1 app-days over 2 days" in out.getvalue()


def test_rollup_stats_says_which_days_are_past_the_event_retention(settings):
    settings.TELEMETRY_RETENTION_DAYS = 5
    today = utc_today()
    out = StringIO()
    call_command("rollup_stats", "--from", str(today - dt.timedelta(days=7)), "--to", str(today), stdout=out)
    assert "2 day(s)" in out.getvalue() and "past the event retention" in out.getvalue()


@pytest.mark.parametrize(
    "args,message",
    [
        (["--from", "2026-13-01"], "--from must be a date"),
        (["--to", "soon"], "--to must be a date"),
        (["--from", "2026-11-05", "--to", "2026-11-01"], "must not be after"),
        (["--from", "2020-01-01", "--to", "2022-01-01"], "at most 366 days"),
        (["--to", "2999-01-01"], "cannot be in the future"),
    ],
)
def test_rollup_stats_refuses_bad_ranges(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("rollup_stats", *args)


def test_rollup_stats_is_the_telemetry_command():
    from django.core.management import get_commands

    assert get_commands()["rollup_stats"] == "telemetry"
