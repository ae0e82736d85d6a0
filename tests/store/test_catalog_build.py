"""The catalog document's fast builder, its meta-only 304 path, the debounced rebuild and the rollup."""

import json
from unittest import mock

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.constants import AppStatus
from store.catalog.services import document as catalog
from store.catalog.services.listing import listing_refresh
from store.models import AppListing
from tests.factories import CategoryFactory

from .conftest import make_published_app, make_version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_ratelimits")]


@pytest.fixture(autouse=True)
def _no_catalog_meta_memo(settings):
    """Tests clear the cache between them; the in-process memo of the catalog's meta would outlive that."""
    settings.CATALOG_META_MEMO_SECONDS = 0


@pytest.fixture
def enqueued():
    """Record catalog rebuild enqueues instead of running them (as a real broker would, later)."""
    with mock.patch("store.tasks.catalog_rebuild.apply_async") as apply_async:
        yield apply_async


def _varied_catalog():
    rich = make_published_app(
        versions=0,
        requires_restart=True,
        tags=["tools", "línea\u2028two"],
        description='Ünïcode \u2029 and "quotes"',
        max_mosis_version_override="3.0",
        category=CategoryFactory(),
    )
    make_version(rich, code=1, min_mosis="1.0", dependencies={"com.example.lib": "^1.0.0"})
    make_version(
        rich,
        code=2,
        min_mosis="2.0",
        max_mosis="4.0",
        languages=["de"],
        permissions=["net"],
        icon_key=f"apps/{rich.pk}/2-icon.png",  # no developer icon_url: the packaged icon's URL
        dependencies={"com.example.lib": "^1.0.0", "com.example.maps": "^2"},
        dependency_rules={
            "com.example.maps": {
                "optional": True,
                "default": False,
                "description": "Maps.",
                "config": {"k": 1},
            }
        },
    )
    make_version(rich, code=3, yanked=True)
    listing_refresh(app_id=rich.pk)
    AppListing.objects.filter(app=rich).update(
        rating_count=3, rating_sum=11, ratings_4=1, ratings_5=2, downloads_total=9, downloads_recent=4
    )
    make_published_app(status=AppStatus.DISABLED, category=None)
    make_published_app(versions=2, tags=[], icon_url="https://cdn.test/icon.png")
    make_published_app(status=AppStatus.SUSPENDED)
    make_published_app(status=AppStatus.UNLISTED)


def test_fast_builder_renders_exactly_what_the_serializer_does():
    _varied_catalog()
    reference = json.loads(json.dumps(catalog.catalog_document()))
    built = json.loads(catalog.catalog_build().body)
    assert built["count"] == reference["count"] == 3
    assert built["apps"] == reference["apps"]  # same keys, values and order of apps
    for fast, slow in zip(built["apps"], reference["apps"], strict=True):
        assert list(fast) == list(slow)  # same key order within each app
    assert {a["disabled"] for a in built["apps"]} == {True, False}
    icons = {a["icon_url"].rsplit("/", 1)[-1] for a in built["apps"]}
    assert icons == {"", "icon.png", "icon"}  # none, the developer's, the packaged one (.../versions/2/icon)
    assert (
        list(built)
        == list(reference)
        == [
            "generated_at",
            "count",
            "download_url_template",
            "detail_url_template",
            "icon_url_template",
            "apps",
        ]
    )
    assert {k: built[k] for k in list(built)[2:5]} == {k: reference[k] for k in list(reference)[2:5]}
    with_version = next(a for a in built["apps"] if a["version_code"] is not None)
    assert with_version["checksum"].startswith("sha256:") and with_version["size"] > 0
    assert with_version["published_at"] and with_version["source"] == "mosis"
    rich = next(a for a in built["apps"] if a["dependency_rules"])
    assert rich["dependency_rules"]["com.example.maps"]["optional"] is True
    assert rich["versions"][0]["dependency_rules"] == rich["dependency_rules"]


def test_fast_builder_escapes_like_the_json_renderer_and_gzips():
    _varied_catalog()
    document = catalog.catalog_build()
    assert b"\\u2028" in document.body and "\u2028".encode() not in document.body
    import gzip
    import hashlib

    assert gzip.decompress(document.gzipped) == document.body
    assert document.etag == f'"{hashlib.sha256(document.body).hexdigest()[:40]}"'


def test_fast_builder_reads_versions_per_chunk(django_assert_num_queries, monkeypatch):
    for _ in range(5):
        make_published_app(versions=2)
    monkeypatch.setattr(catalog, "CHUNK", 2)
    # savepoint, count, listing rows (one cursor, read in chunks), versions for each of 3 chunks, release
    with django_assert_num_queries(7):
        body = json.loads(catalog.catalog_build().body)
    assert body["count"] == 5 and all(len(a["versions"]) == 2 for a in body["apps"])


def test_304_reads_only_the_small_meta_key(api_client, django_assert_num_queries):
    make_published_app()
    first = api_client.get("/v1/store/catalog")
    with mock.patch.object(cache, "get", wraps=cache.get) as get, django_assert_num_queries(0):
        assert api_client.get("/v1/store/catalog", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert [c.args[0] for c in get.call_args_list] == [catalog._META]
    with mock.patch.object(cache, "get", wraps=cache.get) as get:
        assert api_client.get("/v1/store/catalog").content == first.content
    assert [c.args[0] for c in get.call_args_list] == [catalog._META, catalog._doc_key(first["ETag"])]


def test_changes_mark_the_catalog_stale_and_enqueue_one_debounced_rebuild(
    api_client, changed, enqueued, settings
):
    settings.CATALOG_REBUILD_DEBOUNCE = 45
    app = make_published_app(versions=1)
    other = make_published_app(versions=1)
    first = api_client.get("/v1/store/catalog")
    make_version(app, code=2)
    changed(app, "published")
    changed(other, "metadata")
    assert enqueued.call_count == 1 and enqueued.call_args.kwargs == {"countdown": 45}
    # The previous document is served until the rebuild stores its successor.
    assert api_client.get("/v1/store/catalog", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    from store.tasks import catalog_rebuild

    catalog_rebuild.apply()
    after = api_client.get("/v1/store/catalog", HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200 and after["ETag"] != first["ETag"]
    entry = next(a for a in after.json()["apps"] if a["package_id"] == app.package_id)
    assert entry["version_code"] == 2
    # A request that read the old meta just before can still fetch the old body for a while.
    assert cache.get(catalog._doc_key(first["ETag"])) is not None
    # The rebuild released the pending lock: the next change schedules the next rebuild.
    changed(other, "metadata")
    assert enqueued.call_count == 2


def test_no_rebuild_is_scheduled_before_a_first_document_exists(changed, enqueued):
    changed(make_published_app(), "published")
    assert enqueued.call_count == 0


def test_eager_celery_rebuilds_inline(api_client, changed):
    app = make_published_app(versions=1)
    first = api_client.get("/v1/store/catalog")
    make_version(app, code=2)
    changed(app, "published")
    meta = cache.get(catalog._META)
    assert meta["etag"] != first["ETag"]
    assert api_client.get("/v1/store/catalog").json()["apps"][0]["version_code"] == 2


def test_evicted_body_is_rebuilt_on_a_200(api_client):
    make_published_app()
    first = api_client.get("/v1/store/catalog")
    cache.delete(catalog._doc_key(first["ETag"]))
    again = api_client.get("/v1/store/catalog")
    assert again.status_code == 200 and again.json()["apps"] == first.json()["apps"]


def test_rollup_invalidates_only_touched_packages_and_keeps_the_catalog(api_client, enqueued):
    from store.tasks import rollup_downloads

    touched = make_published_app()
    idle = make_published_app()
    catalog_first = api_client.get("/v1/store/catalog")
    idle_first = api_client.get(f"/v1/store/apps/{idle.package_id}")
    touched_first = api_client.get(f"/v1/store/apps/{touched.package_id}")
    api_client.get(f"/v1/store/apps/{touched.package_id}/download")
    with mock.patch("store.tasks.store_cache_invalidate_figures") as invalidate:
        assert rollup_downloads.apply().get() == 1
    assert invalidate.call_args_list == [mock.call(package_ids=[touched.package_id])]
    assert enqueued.call_count == 1  # catalog marked stale, not dropped
    assert cache.get(catalog._META)["etag"] == catalog_first["ETag"]
    assert api_client.get("/v1/store/catalog", HTTP_IF_NONE_MATCH=catalog_first["ETag"]).status_code == 304
    # For real: the touched listing moves, the idle one is still the cached document.
    api_client.get(f"/v1/store/apps/{touched.package_id}/download", REMOTE_ADDR="10.0.0.9")
    assert rollup_downloads.apply().get() == 1
    assert api_client.get(f"/v1/store/apps/{touched.package_id}").json()["download_count"] == 2
    assert touched_first.json()["download_count"] == 0
    assert api_client.get(f"/v1/store/apps/{idle.package_id}")["ETag"] == idle_first["ETag"]


def test_generated_at_is_a_utc_timestamp():
    make_published_app()
    generated = json.loads(catalog.catalog_build().body)["generated_at"]
    assert generated.endswith("Z") and generated[:4] == str(timezone.now().year)


def test_meta_is_memoised_in_process_for_a_moment(api_client, settings):
    make_published_app()
    first = api_client.get("/v1/store/catalog")
    settings.CATALOG_META_MEMO_SECONDS = 30
    catalog._meta_memo[:] = [0.0, None]
    try:
        assert api_client.get("/v1/store/catalog", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
        with mock.patch.object(cache, "get", wraps=cache.get) as get:
            assert api_client.get("/v1/store/catalog", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
        assert get.call_count == 0
        catalog.catalog_rebuild()  # storing a document in this process drops the memo
        assert catalog._meta_memo[1] is None
    finally:
        catalog._meta_memo[:] = [0.0, None]
