"""Operator commands on the store side: export_catalog and rollup_stats (SPEC §10)."""

import datetime as dt
import gzip
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from store.models import AppListing, DownloadDaily, DownloadEvent
from store.services.downloads import download_record
from tests.store.conftest import make_published_app

pytestmark = pytest.mark.django_db


def test_export_catalog_writes_the_same_document_as_the_api(api_client, tmp_path):
    app = make_published_app(package_id="com.example.exported", name="Exported")
    out = tmp_path / "catalog.json.gz"
    call_command("export_catalog", "--output", str(out), "--gzip")
    document = json.loads(gzip.decompress(out.read_bytes()))
    api = api_client.get("/v1/store/catalog").json()
    assert document["count"] == api["count"] == 1
    assert [a["package_id"] for a in document["apps"]] == [app.package_id]


def test_export_catalog_refuses_a_directory(tmp_path):
    with pytest.raises(CommandError, match="is a directory"):
        call_command("export_catalog", "--output", str(tmp_path))


def test_rollup_stats_recounts_a_range_and_the_listing_totals():
    app = make_published_app(package_id="com.example.counted")
    version = app.versions.get()
    today = timezone.now().astimezone(dt.UTC).date()
    yesterday = today - dt.timedelta(days=1)
    for client in ("a", "b", "c"):
        download_record(version=version, client_hash=client, day=yesterday)
    download_record(version=version, client_hash="a", day=today)
    download_record(version=version, client_hash="a", day=today)  # same client, same day: counted once

    call_command("rollup_stats", "--from", str(yesterday), "--to", str(today))

    assert DownloadEvent.objects.filter(rolled_up=False).count() == 0
    assert dict(DownloadDaily.objects.filter(version=version).values_list("day", "count")) == {
        yesterday: 3,
        today: 1,
    }
    listing = AppListing.objects.get(app=app)
    assert (listing.downloads_total, listing.downloads_recent) == (4, 4)


@pytest.mark.parametrize(
    "args,message",
    [
        (["--from", "2026-13-01"], "--from must be a date"),
        (["--from", "2026-11-05", "--to", "2026-11-01"], "must not be after"),
        (["--from", "2020-01-01", "--to", "2022-01-01"], "at most 366 days"),
        (["--to", "2999-01-01"], "cannot be in the future"),
    ],
)
def test_rollup_stats_refuses_bad_ranges(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("rollup_stats", *args)
