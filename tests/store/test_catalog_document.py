"""The catalog document as a file in package storage (local here; S3 in test_catalog_s3.py): one rendering
path (the serializers, in chunks), its meta in the database (304 from the row alone), streaming, gzip, the
503 while the worker builds it, the debounced rebuild and the ``?since=`` deltas."""

import gzip
import hashlib
import json
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.http import FileResponse
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from apps.constants import AppStatus
from mosis.core import storage
from store.catalog import selectors
from store.catalog.serializers import CatalogEntrySerializer, CatalogSerializer
from store.catalog.services import document as service
from store.catalog.services.listing import listing_refresh
from store.models import CatalogBuild, CatalogDocument, CatalogEntryState
from store.tasks import catalog_rebuild as rebuild_task

from .conftest import make_published_app, make_version, read_catalog

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_ratelimits")]
BASE = "http://testserver"


@pytest.fixture(autouse=True)
def _no_meta_memo(settings):
    settings.CATALOG_META_MEMO_SECONDS = 0


@pytest.fixture
def enqueued():
    """The build task's enqueues, recorded instead of run (a worker that has not picked them up yet)."""
    with mock.patch.object(rebuild_task, "apply_async") as apply_async:
        yield apply_async


def _stored(document: CatalogDocument, *, gzipped: bool = False) -> bytes:
    return b"".join(storage.iter_object(document.gzip_key if gzipped else document.key))


# --- one rendering path -------------------------------------------------------------------------------
def test_the_file_holds_what_the_serializers_render(catalog_built):
    listed = make_published_app(versions=2, tags=["notes", "\u2028"])
    make_version(listed, code=3, yanked=True)
    listing_refresh(app_id=listed.pk)
    make_published_app(status=AppStatus.DISABLED)
    make_published_app(status=AppStatus.UNLISTED)
    document = catalog_built()

    body = _stored(document)
    parsed = json.loads(body)
    listings = selectors.attach_shown_versions(list(selectors.catalog_listings()))
    expected = json.loads(JSONRenderer().render(CatalogEntrySerializer(listings, many=True).data))
    assert parsed["apps"] == expected and parsed["count"] == document.count == 2
    assert list(parsed) == list(CatalogSerializer().fields)
    assert b"\\u2028" in body  # escaped as DRF's JSONRenderer does
    assert not hasattr(service, "_entry")


def test_the_document_is_a_content_addressed_pair_of_files(catalog_built):
    make_published_app()
    document = catalog_built()
    body = _stored(document)
    sha = hashlib.sha256(body).hexdigest()
    assert document.etag == f'"{sha[:40]}"' and document.size == len(body)
    assert document.key == f"catalog/f{service.CATALOG_FORMAT}/{sha[:40]}.json"
    assert document.gzip_key == document.key + ".gz"
    assert gzip.decompress(_stored(document, gzipped=True)) == body
    assert document.gzip_size == storage.object_size(document.gzip_key)
    assert CatalogBuild.objects.filter(etag=document.etag, base_url=BASE).exists()


def test_replaced_files_are_kept_one_build_then_deleted(catalog_built):
    app = make_published_app()
    first = catalog_built()
    app.name = "Renamed once"
    app.save()
    listing_refresh(app_id=app.pk)
    second = catalog_built()
    assert second.previous_keys == [first.key, first.gzip_key]
    assert storage.object_exists(first.key)  # a stream or redirect may still read it
    app.name = "Renamed twice"
    app.save()
    listing_refresh(app_id=app.pk)
    catalog_built()
    assert not storage.object_exists(first.key) and not storage.object_exists(first.gzip_key)
    assert storage.object_exists(second.key)


def test_a_rebuild_that_changes_nothing_keeps_the_served_document(catalog_built):
    """Only generated_at would differ: polling clients keep their ETag (and their 304s)."""
    app = make_published_app()
    first = catalog_built()
    assert catalog_built().etag == first.etag
    assert CatalogBuild.objects.filter(base_url=BASE).count() == 2  # the empty one, then this one
    app.name = "Renamed"
    app.save()
    listing_refresh(app_id=app.pk)
    assert catalog_built().etag != first.etag


def test_build_queries_do_not_grow_with_apps(monkeypatch):
    """Rows with app, category and latest version in one query; installable versions one query per chunk."""
    monkeypatch.setattr(service, "CHUNK", 10)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            service.catalog_render().cleanup()
        return len(captured)

    make_published_app(versions=2)
    assert queries() == 2
    for _ in range(9):
        make_published_app(versions=3)
    assert queries() == 2  # 10 apps: one chunk
    for _ in range(15):
        make_published_app(versions=1)
    assert queries() == 1 + 3  # 25 apps: three chunks


def test_build_memory_holds_one_chunk_not_the_document(monkeypatch):
    """The build's peak allocation is the same for 2 chunks as for 8: one chunk of rows and one block of
    bytes (``COPY_CHUNK``, 1 MiB in production, small here) in memory, the rest on disk."""
    import tracemalloc

    monkeypatch.setattr(service, "CHUNK", 10)
    monkeypatch.setattr(service, "COPY_CHUNK", 8192)

    def peak() -> tuple[int, int]:
        tracemalloc.start()
        try:
            built = service.catalog_render(track_changes=True)
            size = built.size
            built.cleanup()
            return tracemalloc.get_traced_memory()[1], size
        finally:
            tracemalloc.stop()

    for _ in range(20):
        make_published_app(versions=2)
    peak()  # first build: every entry is new (inserts), imports warmed
    small, small_size = peak()
    for _ in range(60):
        make_published_app(versions=2)
    peak()
    large, large_size = peak()
    assert large_size > 3.5 * small_size
    assert large < small * 1.2, (small, large, small_size, large_size)


def test_change_tracking_costs_two_queries_per_chunk_and_one_for_removals(monkeypatch):
    monkeypatch.setattr(service, "CHUNK", 10)
    for _ in range(12):
        make_published_app()
    service.catalog_render(track_changes=True).cleanup()  # every entry is new: inserts
    with CaptureQueriesContext(connection) as captured:
        service.catalog_render(track_changes=True).cleanup()  # nothing changed: reads only
    # per chunk: rows fetch is one query overall, installable versions and known digests per chunk
    assert len(captured) == 1 + 2 * 2 + 1


# --- serving ------------------------------------------------------------------------------------------
def test_a_full_response_streams_the_file_in_blocks(api_client, catalog_built):
    for _ in range(12):
        make_published_app()
    document = catalog_built()
    response = api_client.get("/v1/store/catalog")
    assert response.status_code == 200 and isinstance(response, FileResponse)
    assert response.streaming and not hasattr(response, "_container")
    assert document.size > 2 * FileResponse.block_size
    blocks = iter(response.streaming_content)
    first = next(blocks)  # read lazily, one block at a time, as the server sends them
    assert len(first) <= FileResponse.block_size
    blocks = [first, *blocks]
    assert max(len(b) for b in blocks) <= FileResponse.block_size
    assert b"".join(blocks) == _stored(document)
    assert response["Content-Length"] == str(document.size)
    assert response["Content-Type"] == "application/json"
    assert "Content-Disposition" not in response
    assert response["ETag"] == document.etag and response["Vary"] == "Accept-Encoding"
    assert response["Cache-Control"].startswith("public, max-age=")


def test_gzip_is_served_when_accepted(api_client, catalog_built):
    for _ in range(3):
        make_published_app()
    document = catalog_built()
    plain = api_client.get("/v1/store/catalog")
    assert "Content-Encoding" not in plain
    zipped = api_client.get("/v1/store/catalog", HTTP_ACCEPT_ENCODING="gzip, br")
    assert zipped["Content-Encoding"] == "gzip" and zipped["Content-Length"] == str(document.gzip_size)
    assert zipped["ETag"] == document.etag[:-1] + '-gzip"' != plain["ETag"]
    assert read_catalog(zipped) == read_catalog(plain)


def test_304_is_decided_from_the_row_alone(api_client, catalog_built, django_assert_num_queries, settings):
    make_published_app()
    document = catalog_built()
    gzip_etag = document.etag[:-1] + '-gzip"'
    with mock.patch.object(storage, "local_path", side_effect=AssertionError("the file was touched")):
        for etag in (document.etag, gzip_etag, f"W/{document.etag}", f'"other", {document.etag}'):
            with django_assert_num_queries(1):
                response = api_client.get("/v1/store/catalog", HTTP_IF_NONE_MATCH=etag)
            assert response.status_code == 304 and response["ETag"] == document.etag
    assert api_client.get("/v1/store/catalog", HTTP_IF_NONE_MATCH='"stale"').status_code == 200
    settings.CATALOG_META_MEMO_SECONDS = 60
    api_client.get("/v1/store/catalog", HTTP_IF_NONE_MATCH=document.etag)
    with django_assert_num_queries(0):  # the row is memoised in the process for a moment
        assert api_client.get("/v1/store/catalog", HTTP_IF_NONE_MATCH=document.etag).status_code == 304


def test_a_redis_outage_changes_nothing(api_client, catalog_built):
    from django.core.cache import cache

    make_published_app()
    document = catalog_built()
    broken = mock.Mock(side_effect=ConnectionError("redis is down"))
    with mock.patch.multiple(cache, get=broken, set=broken, add=broken, delete=broken, get_many=broken):
        assert api_client.get("/v1/store/catalog", HTTP_IF_NONE_MATCH=document.etag).status_code == 304
        assert read_catalog(api_client.get("/v1/store/catalog"))["count"] == 1
        assert service.catalog_rebuild(BASE)


# --- no document yet: 503 while the worker builds it ----------------------------------------------------
def test_a_missing_document_answers_503_and_enqueues_one_build(api_client, enqueued):
    make_published_app()
    for path in ("/v1/store/catalog", "/v1/store/catalog?since=2026-01-01T00:00:00Z"):  # fast path and DRF
        response = api_client.get(path)
        assert response.status_code == 503
        assert response["Retry-After"] == "10"
        assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert enqueued.call_count == 1  # one build for the base, however many requests wait
    assert enqueued.call_args.kwargs == {"kwargs": {"base": BASE}, "countdown": 0}
    rebuild_task.apply(**enqueued.call_args.kwargs)  # the worker
    assert read_catalog(api_client.get("/v1/store/catalog"))["count"] == 1


def test_a_lost_build_is_enqueued_again(api_client, enqueued, settings):
    api_client.get("/v1/store/catalog")
    lost = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    CatalogDocument.objects.filter(base_url=BASE).update(
        build_requested_at=lost - timedelta(seconds=settings.CATALOG_REBUILD_DEBOUNCE)
    )
    assert api_client.get("/v1/store/catalog").status_code == 503
    assert enqueued.call_count == 2


def test_eager_celery_builds_the_first_document_in_the_calling_process(api_client):
    """Embedded mode (make run) has no worker: the enqueued build runs where it is enqueued, so the first
    request already gets the catalog."""
    make_published_app()
    response = api_client.get("/v1/store/catalog")
    assert response.status_code == 200 and read_catalog(response)["count"] == 1


def test_a_lost_local_file_is_rebuilt(api_client, catalog_built, enqueued):
    make_published_app()
    document = catalog_built()
    storage.delete_object(document.key)
    assert api_client.get("/v1/store/catalog").status_code == 503
    assert enqueued.call_count == 1


def test_a_document_of_an_older_format_is_served_while_it_is_rebuilt(api_client, catalog_built, enqueued):
    make_published_app()
    document = catalog_built()
    CatalogDocument.objects.filter(pk=document.pk).update(format=service.CATALOG_FORMAT - 1)
    assert api_client.get("/v1/store/catalog").status_code == 200
    assert api_client.get("/v1/store/catalog").status_code == 200
    assert enqueued.call_count == 1


# --- rebuilds after changes -----------------------------------------------------------------------------
def test_changes_enqueue_one_debounced_rebuild_of_every_base(catalog_built, enqueued, settings):
    assert service.catalog_mark_stale() is True
    assert service.catalog_mark_stale() is False  # one pending is enough
    assert enqueued.call_count == 1
    assert enqueued.call_args.kwargs == {
        "kwargs": {"base": None},
        "countdown": settings.CATALOG_REBUILD_DEBOUNCE,
    }
    rebuild_task.apply(**enqueued.call_args.kwargs)
    assert service.catalog_mark_stale() is True  # the build released the claim


def test_nothing_is_scheduled_before_a_first_document(enqueued):
    assert service.catalog_mark_stale() is False
    assert not enqueued.called


def test_a_broker_outage_releases_the_claim(catalog_built):
    with mock.patch.object(rebuild_task, "apply_async", side_effect=OSError("broker down")):
        assert service.catalog_mark_stale() is False
    assert CatalogDocument.objects.get(base_url=BASE).build_requested_at is None


def test_a_change_rebuilds_with_eager_celery(api_client, catalog_built, changed):
    app = make_published_app()
    first = api_client.get("/v1/store/catalog")
    make_version(app, code=2)
    changed(app, "published")
    after = api_client.get("/v1/store/catalog", HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200 and read_catalog(after)["apps"][0]["version_code"] == 2


# --- deltas -----------------------------------------------------------------------------------------------
@pytest.fixture
def four_changes(catalog_built):
    """A document with four apps, then: one gets a version, one is unlisted, one disabled, one deleted."""
    apps = {
        name: make_published_app(package_id=f"com.example.{name}") for name in ("new", "hid", "off", "del")
    }
    steady = make_published_app(package_id="com.example.steady")
    before = catalog_built()
    make_version(apps["new"], code=2)
    apps["hid"].status = AppStatus.UNLISTED
    apps["off"].status = AppStatus.DISABLED
    for app in apps.values():
        app.save()
        listing_refresh(app_id=app.pk)
    apps["del"].delete()
    after = catalog_built()
    return before, after, steady


def test_since_an_etag_answers_the_changed_and_removed_apps(api_client, four_changes):
    before, after, _ = four_changes
    response = api_client.get("/v1/store/catalog", {"since": before.etag})
    assert response.status_code == 200 and response["ETag"]
    delta = response.json()
    assert delta["etag"] == after.etag
    assert [a["package_id"] for a in delta["changed"]] == ["com.example.new", "com.example.off"]
    new, off = delta["changed"]
    assert new["version_code"] == 2 and off["disabled"] is True
    assert delta["removed"] == ["com.example.del", "com.example.hid"]
    assert delta["detail_url_template"] == f"{BASE}/v1/store/apps/{{package_id}}"
    full = {a["package_id"]: a for a in read_catalog(api_client.get("/v1/store/catalog"))["apps"]}
    assert new == full["com.example.new"]  # the same entries as the document's


def test_since_accepts_the_etag_as_received_and_a_timestamp(api_client, four_changes):
    before, _, _ = four_changes
    expected = api_client.get("/v1/store/catalog", {"since": before.etag}).json()
    bare = before.etag.strip('"')
    for since in (bare, f'W/"{bare}-gzip"', before.generated_at.isoformat()):
        assert api_client.get("/v1/store/catalog", {"since": since}).json()["changed"] == expected["changed"]
    naive = before.generated_at.replace(tzinfo=None).isoformat()  # UTC when no offset is given
    assert api_client.get("/v1/store/catalog", {"since": naive}).json()["removed"] == expected["removed"]


def test_since_the_current_etag_is_empty_or_304(api_client, four_changes):
    _, after, _ = four_changes
    delta = api_client.get("/v1/store/catalog", {"since": after.etag}).json()
    assert (delta["changed"], delta["removed"]) == ([], [])
    response = api_client.get("/v1/store/catalog", {"since": after.etag}, HTTP_IF_NONE_MATCH=after.etag)
    assert response.status_code == 304


def test_a_relisted_app_is_changed_again(api_client, four_changes, catalog_built):
    before, after, _ = four_changes
    app = listing_refresh_app("com.example.hid", AppStatus.PUBLISHED)
    assert app
    catalog_built()
    delta = api_client.get("/v1/store/catalog", {"since": after.etag}).json()
    assert [a["package_id"] for a in delta["changed"]] == ["com.example.hid"] and delta["removed"] == []


def listing_refresh_app(package_id: str, status: str):
    from apps.models import App

    app = App.objects.get(package_id=package_id)
    app.status = status
    app.save()
    listing_refresh(app_id=app.pk)
    return app


@pytest.mark.parametrize(
    "since",
    [
        '"0123456789abcdef0123456789abcdef01234567"',  # an ETag never served (or forgotten)
        "2000-01-01T00:00:00Z",  # before the oldest recorded build
    ],
)
def test_an_unknown_or_too_old_since_answers_the_full_document(api_client, four_changes, since):
    response = api_client.get("/v1/store/catalog", {"since": since})
    assert response.status_code == 200 and isinstance(response, FileResponse)
    assert read_catalog(response)["count"] == 3


def test_too_many_changes_answer_the_full_document(api_client, four_changes, settings):
    before, _, _ = four_changes
    settings.CATALOG_DELTA_MAX_APPS = 1
    assert "apps" in read_catalog(api_client.get("/v1/store/catalog", {"since": before.etag}))


@pytest.mark.parametrize("since", ["", "yesterday", "2026-13-01T00:00:00Z", "x" * 101])
def test_a_bad_since_is_a_400(api_client, catalog_built, since):
    response = api_client.get("/v1/store/catalog", {"since": since})
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "VALIDATION_ERROR" and "since" in body["details"]


def test_a_delta_costs_the_same_queries_for_one_or_many_changes(
    api_client, catalog_built, django_assert_num_queries
):
    first = catalog_built()
    make_published_app()
    catalog_built()
    with django_assert_num_queries(7):
        assert len(api_client.get("/v1/store/catalog", {"since": first.etag}).json()["changed"]) == 1
    for _ in range(6):
        make_published_app(versions=2)
    catalog_built()
    with django_assert_num_queries(7):
        assert len(api_client.get("/v1/store/catalog", {"since": first.etag}).json()["changed"]) == 7


def test_old_builds_and_tombstones_are_pruned(four_changes, settings, catalog_built):
    _, _, steady = four_changes
    past = timezone.now() - timedelta(days=settings.CATALOG_DELTA_RETENTION_DAYS + 1)
    CatalogBuild.objects.update(generated_at=past)
    CatalogEntryState.objects.filter(removed=True).update(changed_at=past)
    steady.name = "Steady no more"
    steady.save()
    listing_refresh(app_id=steady.pk)
    current = catalog_built()
    assert list(CatalogBuild.objects.values_list("etag", flat=True)) == [current.etag]
    assert not CatalogEntryState.objects.filter(removed=True).exists()


# --- commands -------------------------------------------------------------------------------------------
def test_rebuild_catalog_builds_the_served_document_now(api_client, capsys):
    make_published_app()
    call_command("rebuild_catalog", "--base", BASE)
    document = CatalogDocument.objects.get(base_url=BASE)
    assert capsys.readouterr().out.strip() == f"catalog built: {document.etag}"
    assert read_catalog(api_client.get("/v1/store/catalog"))["count"] == 1


def test_export_catalog_streams_the_same_rendering(tmp_path, settings):
    settings.SITE_URL = BASE
    make_published_app()
    document = service.catalog_rebuild()
    out = tmp_path / "catalog.json"
    call_command("export_catalog", "--output", str(out))
    exported = json.loads(out.read_bytes())
    stored = json.loads(_stored(CatalogDocument.objects.get(etag=document[0])))
    assert {k: v for k, v in exported.items() if k != "generated_at"} == {
        k: v for k, v in stored.items() if k != "generated_at"
    }


def test_the_download_rollup_touches_only_moved_listings_and_keeps_the_served_catalog(
    api_client, catalog_built, enqueued
):
    from store.tasks import rollup_downloads

    touched = make_published_app()
    idle = make_published_app()
    document = catalog_built()
    catalog_first = api_client.get("/v1/store/catalog")
    idle_first = api_client.get(f"/v1/store/apps/{idle.package_id}")
    touched_first = api_client.get(f"/v1/store/apps/{touched.package_id}")
    api_client.get(f"/v1/store/apps/{touched.package_id}/download")
    enqueued.reset_mock()
    with mock.patch("store.tasks.store_cache_invalidate_figures") as invalidate:
        assert rollup_downloads.apply().get() == 1
    assert invalidate.call_args_list == [mock.call(package_ids=[touched.package_id])]
    assert enqueued.call_count == 1  # the catalog is marked stale, never dropped: the old file is served
    assert CatalogDocument.objects.get(pk=document.pk).etag == document.etag
    assert api_client.get("/v1/store/catalog", HTTP_IF_NONE_MATCH=catalog_first["ETag"]).status_code == 304
    # For real: the touched listing moves, the idle one is still the cached document.
    api_client.get(f"/v1/store/apps/{touched.package_id}/download", REMOTE_ADDR="10.0.0.9")
    assert rollup_downloads.apply().get() == 1
    assert api_client.get(f"/v1/store/apps/{touched.package_id}").json()["download_count"] == 2
    assert touched_first.json()["download_count"] == 0
    assert api_client.get(f"/v1/store/apps/{idle.package_id}")["ETag"] == idle_first["ETag"]
