"""The store cache drops what a change touched and rebuilds each key once (store.catalog.services.cache):
an app's change leaves other apps' documents and the pages without it cached; the pages holding it (and
those it can newly enter) are rebuilt; N concurrent misses of one key build it once; a stale page is served
while one request rebuilds it. On the configured cache (Redis in CI, the file cache otherwise) and on the
local-memory cache."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.models import Category
from mosis.core import redis as redis_adapter
from store.catalog.services.cache import (
    SCOPE_ALL,
    store_cache_fetch,
    store_cache_lookup,
    store_cache_stats,
)

from .conftest import make_published_app

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["configured", "locmem"])
def backend(request, settings):
    """The configured default cache, then Django's local-memory cache (one process, no Redis)."""
    if request.param == "locmem":
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": f"store-cache-test-{uuid.uuid4().hex}",
            }
        }
    cache.clear()
    yield request.param
    cache.clear()


def _from_cache(api_client, url: str) -> bool:
    """GET ``url`` (200); True when it was answered from a stored document (no query ran)."""
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(url)
    assert response.status_code == 200, (url, response.content)
    return len(queries) == 0


def _reads(app) -> list[str]:
    """The cached reads that belong to ``app`` alone, or to lists it appears in."""
    pkg = app.package_id
    return [
        f"/v1/store/apps/{pkg}/versions",
        f"/v1/store/apps/{pkg}/versions/1",
        f"/v1/store/apps/{pkg}?mosis_version=1.0",
        f"/v1/store/apps/{pkg}/reviews",
        f"/v1/store/apps?category={app.category.slug}",
        f"/v1/store/apps?q={app.name.split()[0].lower()}",
    ]


@pytest.mark.usefixtures("no_ratelimits", "backend")
def test_a_change_to_one_app_leaves_the_others_cached_and_rebuilds_its_own(api_client, changed):
    zebra = make_published_app(name="Zebra Notes")
    quokka = make_published_app(name="Quokka Maps")
    every_app = ["/v1/store/apps", "/v1/store/apps?sort=name&limit=1", "/v1/store/categories"]
    for url in [*_reads(zebra), *_reads(quokka), *every_app]:
        assert not _from_cache(api_client, url)  # built and stored
        assert _from_cache(api_client, url)
    zebra.name = "Zebra Notes Pro"
    zebra.save()
    changed(zebra, "app_updated")
    for url in _reads(quokka):  # another app's documents, its category, a search it alone matches
        assert _from_cache(api_client, url), url
    for url in [*_reads(zebra), *every_app]:  # its own, and every page that holds it or it may enter
        assert not _from_cache(api_client, url), url
    assert api_client.get("/v1/store/apps?q=zebra").json()["apps"][0]["name"] == "Zebra Notes Pro"


@pytest.mark.usefixtures("no_ratelimits", "backend")
def test_an_app_moving_category_leaves_the_old_pages_and_enters_the_new(api_client, changed):
    mover = make_published_app(name="Mover")
    resident = make_published_app(name="Resident")
    old, new = mover.category, resident.category
    old_page, new_page = f"/v1/store/apps?category={old.slug}", f"/v1/store/apps?category={new.slug}"
    unrelated = make_published_app(name="Bystander").category
    for url in (old_page, new_page, f"/v1/store/apps?category={unrelated.slug}"):
        api_client.get(url)
    mover.category = new
    mover.save()
    changed(mover, "app_updated")
    assert api_client.get(old_page).json()["apps"] == []
    assert [a["name"] for a in api_client.get(new_page + "&sort=name").json()["apps"]] == [
        "Mover",
        "Resident",
    ]
    assert {a["name"] for a in api_client.get(new_page).json()["apps"]} == {"Mover", "Resident"}
    assert _from_cache(api_client, f"/v1/store/apps?category={unrelated.slug}")


@pytest.mark.usefixtures("no_ratelimits", "backend")
def test_a_search_an_app_newly_matches_shows_it_once_the_page_is_no_longer_fresh(
    api_client, changed, settings
):
    """Pages holding the app are tracked; a search it did not match is not: it shows the app after
    ``STORE_SEARCH_TTL`` (here 0: every stored search page is already past its freshness)."""
    quokka = make_published_app(name="Quokka Maps")
    zebra = make_published_app(name="Zebra Notes")
    assert [a["name"] for a in api_client.get("/v1/store/apps?q=quokka").json()["apps"]] == ["Quokka Maps"]
    zebra.name = "Zebra Quokka"
    zebra.save()
    changed(zebra, "app_updated")
    assert _from_cache(api_client, "/v1/store/apps?q=quokka")  # fresh: the documented lag
    settings.STORE_SEARCH_TTL = 0
    api_client.get("/v1/store/apps?q=quokka&limit=5")  # stored already stale
    names = {a["name"] for a in api_client.get("/v1/store/apps?q=quokka&limit=5").json()["apps"]}
    assert names == {"Quokka Maps", "Zebra Quokka"} and quokka.name == "Quokka Maps"


@pytest.mark.usefixtures("no_ratelimits", "backend")
def test_cache_stats_count_only_what_is_still_reachable(api_client, staff_client, changed):
    zebra = make_published_app(name="Zebra Notes")
    quokka = make_published_app(name="Quokka Maps")
    for url in (
        f"/v1/store/apps?category={zebra.category.slug}",
        f"/v1/store/apps?category={quokka.category.slug}",
        "/v1/store/apps",
        f"/v1/store/apps/{zebra.package_id}/versions",
        f"/v1/store/apps/{quokka.package_id}/versions",
    ):
        api_client.get(url)
    before = staff_client.get("/v1/cache/stats").json()
    assert (before["list_entries"], before["version_entries"]) == (3, 2)
    changed(zebra, "app_updated")
    after = staff_client.get("/v1/cache/stats").json()
    assert (after["list_entries"], after["version_entries"]) == (1, 1)  # quokka's category, its versions
    assert after["total_entries"] == 2


def _concurrently(n: int, call) -> list:
    """``call()`` in ``n`` threads released at once; their results (an exception is re-raised)."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - handed back to the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for result in results:
        if isinstance(result, Exception):
            raise result
    return results


def _slow_builder(builds: list, seconds: float):
    def build():
        builds.append(1)
        time.sleep(seconds)
        return {"n": len(builds)}

    return build


@pytest.mark.usefixtures("backend")
def test_concurrent_misses_of_one_key_build_it_once(settings):
    settings.STORE_REBUILD_WAIT = 20  # a loaded test machine: the waiters must not give up on the builder
    builds: list = []
    parts = ("single-flight", uuid.uuid4().hex)
    documents = _concurrently(
        8,
        lambda: store_cache_fetch(
            kind="list", parts=parts, build=_slow_builder(builds, 0.3), scope=SCOPE_ALL
        ),
    )
    assert len(builds) == 1
    assert {document.body for document in documents} == {b'{"n":1}'}


@pytest.mark.usefixtures("backend")
def test_waiters_build_themselves_when_the_builder_fails(settings):
    settings.STORE_REBUILD_WAIT = 1.0
    calls: list = []
    parts = ("failing", uuid.uuid4().hex)

    def build():
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.2)
            raise RuntimeError("the database went away")
        return {"ok": True}

    def fetch():
        try:
            return store_cache_fetch(kind="list", parts=parts, build=build, scope=SCOPE_ALL).body
        except RuntimeError:
            return "failed"

    results = _concurrently(4, fetch)
    assert results.count("failed") == 1 and results.count(b'{"ok":true}') == 3
    assert len(calls) <= 4


@pytest.mark.usefixtures("backend")
def test_a_stale_page_is_served_while_exactly_one_request_rebuilds_it(settings):
    settings.STORE_CACHE_TTL = 1
    settings.STORE_CACHE_STALE = 60
    builds: list = []
    parts = ("swr", uuid.uuid4().hex)

    def fetch():
        return store_cache_fetch(kind="list", parts=parts, build=_slow_builder(builds, 0.4), scope=SCOPE_ALL)

    assert fetch().body == b'{"n":1}'
    assert store_cache_lookup(kind="list", parts=parts, scope=SCOPE_ALL).body == b'{"n":1}'  # fresh
    time.sleep(1.1)
    # Stale, nobody rebuilding: the fast path leaves it to the view, which takes the rebuild.
    assert store_cache_lookup(kind="list", parts=parts, scope=SCOPE_ALL) is None
    bodies = sorted(document.body for document in _concurrently(6, fetch))
    assert len(builds) == 2  # one rebuild for six requests
    assert bodies == [b'{"n":1}'] * 5 + [b'{"n":2}']  # five served the stale page meanwhile
    assert fetch().body == b'{"n":2}' and len(builds) == 2  # fresh again


@pytest.mark.usefixtures("backend")
def test_the_fast_path_serves_a_stale_page_while_a_rebuild_holds_the_lock(settings):
    settings.STORE_CACHE_TTL = 1
    parts = ("swr-fast", uuid.uuid4().hex)
    store_cache_fetch(kind="list", parts=parts, build=lambda: {"v": 1}, scope=SCOPE_ALL)
    time.sleep(1.1)
    hits = store_cache_stats()["hits"]
    release = threading.Event()
    building = threading.Event()

    def slow_build():
        building.set()
        release.wait(5)
        return {"v": 2}

    rebuild = threading.Thread(
        target=lambda: store_cache_fetch(kind="list", parts=parts, build=slow_build, scope=SCOPE_ALL)
    )
    rebuild.start()
    assert building.wait(5)
    assert store_cache_lookup(kind="list", parts=parts, scope=SCOPE_ALL).body == b'{"v":1}'
    release.set()
    rebuild.join(5)
    assert store_cache_lookup(kind="list", parts=parts, scope=SCOPE_ALL).body == b'{"v":2}'
    assert store_cache_stats()["hits"] == hits + 3  # the rebuild's stale hit and the two lookups


def test_sets_of_the_adapter_add_and_take(backend):
    redis_adapter.set_add({"t:a": ["x", "y"], "t:b": ["z"], "t:c": []}, timeout=60)
    redis_adapter.set_add({"t:a": ["y", "w"]}, timeout=60)
    assert redis_adapter.set_take(["t:a", "t:b", "t:c"]) == {
        "t:a": {"x", "y", "w"},
        "t:b": {"z"},
        "t:c": set(),
    }
    assert redis_adapter.set_take(["t:a"]) == {"t:a": set()}


def test_category_changes_may_still_drop_everything(api_client, backend, django_capture_on_commit_callbacks):
    app = make_published_app(name="Anything")
    other = make_published_app(name="Other")
    url = f"/v1/store/apps/{other.package_id}/versions"
    api_client.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        Category.objects.filter(pk=app.category_id).get().save()
    assert not _from_cache(api_client, url)


@pytest.mark.skipif(not redis_adapter.enabled(), reason="needs Redis as the cache (REDIS_URL)")
def test_counters_named_after_what_clients_ask_expire(api_client):
    """Every distinct search keys its pages by a counter of its own: without an expiry a long tail of
    searches (or a client inventing categories) would pile up counters in Redis for ever."""
    make_published_app()
    client = redis_adapter.client()
    for word in (f"zq{uuid.uuid4().hex[:8]}" for _ in range(3)):
        assert api_client.get(f"/v1/store/apps?q={word}").status_code == 200
    assert api_client.get("/v1/store/apps?category=no-such-category").status_code == 200
    counters = list(client.scan_iter(match=redis_adapter.key("store:v1:gen:*")))
    assert len(counters) >= 5  # all, three searches, the category (and more from the fixtures)
    ttls = [client.ttl(name) for name in counters]
    assert all(0 < ttl <= redis_adapter.GENERATION_TTL for ttl in ttls), ttls
    redis_adapter.generation_bump("store:v1:gen:test-bumped")
    assert 0 < client.ttl(redis_adapter.key("store:v1:gen:test-bumped")) <= redis_adapter.GENERATION_TTL
