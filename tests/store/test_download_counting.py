"""How downloads are counted: the Redis store (production) and the database store give the same figures;
the fast answer of the download URLs is byte-for-byte DRF's; the rollup is idempotent and never lowers."""

import datetime as dt
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.exceptions import ValidationError

from mosis.core import redis as redis_adapter
from store.downloads import services as downloads
from store.downloads import views as download_views
from store.downloads.serializers import DownloadQuerySerializer
from store.downloads.services import download_record, downloads_rollup
from store.models import AppListing, DownloadDaily

from .conftest import make_published_app, make_version

pytestmark = pytest.mark.django_db

requires_redis = pytest.mark.skipif(
    not redis_adapter.enabled(), reason="needs Redis as the cache (set REDIS_URL=redis://...)"
)
FIXED_URL = "https://files.example.test/pkg.mpk?sig=abc"
TODAY = dt.date(2026, 3, 10)


@pytest.fixture
def on_day(monkeypatch):
    """Pin the UTC day downloads are counted on (and the rollup's default 'today')."""
    state = {"day": TODAY}
    monkeypatch.setattr(downloads, "_utc_today", lambda: state["day"])

    def set_day(day):
        state["day"] = day

    return set_day


@pytest.fixture
def fixed_url(monkeypatch):
    """A deterministic download URL, so two answers can be compared byte for byte."""
    monkeypatch.setattr(downloads.storage, "presigned_download", lambda *a, **k: FIXED_URL)


def _figures(app):
    listing = AppListing.objects.get(app=app)
    return listing.downloads_total, listing.downloads_recent


def _daily(app):
    return {
        (str(v), d): n
        for v, d, n in DownloadDaily.objects.filter(app=app).values_list("version", "day", "count")
    }


# --- Same public results on both stores (Redis when REDIS_URL is set, the database otherwise) ----------


@pytest.mark.usefixtures("no_ratelimits")
def test_api_downloads_dedupe_per_client_version_and_day_and_fill_the_seven_day_window(api_client, on_day):
    app = make_published_app(versions=1)
    make_version(app, code=2)
    latest = f"/v1/store/apps/{app.package_id}/download"
    first = f"/v1/store/apps/{app.package_id}/versions/1/download"
    for day_offset, clients in [(0, ("10.0.0.1", "10.0.0.2")), (1, ("10.0.0.1",)), (7, ("10.0.0.3",))]:
        on_day(TODAY + dt.timedelta(days=day_offset))
        for ip in clients:
            for _ in range(3):  # retries the same day: one download
                assert api_client.get(latest, {"redirect": "1"}, REMOTE_ADDR=ip).status_code == 302
        downloads_rollup()
    on_day(TODAY + dt.timedelta(days=7))
    assert api_client.get(first, REMOTE_ADDR="10.0.0.3").status_code == 200  # other version: counted
    downloads_rollup()
    v1, v2 = (str(pk) for pk in app.versions.order_by("version_code").values_list("pk", flat=True))
    assert _daily(app) == {
        (v2, TODAY): 2,
        (v2, TODAY + dt.timedelta(days=1)): 1,
        (v2, TODAY + dt.timedelta(days=7)): 1,
        (v1, TODAY + dt.timedelta(days=7)): 1,
    }
    # Day 7's window is days 1..7: the two day-0 downloads dropped out of "recent".
    assert _figures(app) == (5, 3)


@pytest.mark.usefixtures("no_ratelimits")
def test_rollup_twice_gives_the_same_figures(api_client, on_day):
    app = make_published_app()
    for ip in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        api_client.get(f"/v1/store/apps/{app.package_id}/download", REMOTE_ADDR=ip)
    assert downloads_rollup() == 3
    figures, daily = _figures(app), _daily(app)
    assert downloads_rollup() == 0
    assert (_figures(app), _daily(app)) == (figures, daily) and figures == (3, 3)


@pytest.mark.usefixtures("no_ratelimits")
def test_rollup_task_invalidates_only_apps_whose_counts_moved(api_client, on_day):
    from store.tasks import rollup_downloads

    touched, idle = make_published_app(), make_published_app()
    api_client.get(f"/v1/store/apps/{touched.package_id}/download")
    with mock.patch("store.tasks.store_cache_invalidate_figures") as invalidate:
        assert rollup_downloads.apply().get() == 1
        assert rollup_downloads.apply().get() == 0  # nothing moved: nothing invalidated again
    assert invalidate.call_args_list == [mock.call(package_ids=[touched.package_id])]
    assert _figures(idle) == (0, 0)


# --- The fast answer (anonymous GETs) is DRF's answer --------------------------------------------------


def _comparable(response):
    headers = {
        k: v for k, v in response.headers.items() if k != "X-Request-ID" and not k.startswith("X-RateLimit")
    }
    return response.status_code, headers, response.content


@pytest.mark.usefixtures("no_ratelimits", "fixed_url")
@pytest.mark.parametrize("query", ["", "?redirect=1", "?redirect=true&mosis_version=1.5", "?redirect=no"])
@pytest.mark.parametrize("versioned", [False, True])
def test_fast_answer_is_byte_for_byte_the_drf_answer(api_client, query, versioned):
    app = make_published_app(versions=1)
    url = f"/v1/store/apps/{app.package_id}/" + ("versions/1/download" if versioned else "download")
    view = download_views.StoreVersionDownloadView if versioned else download_views.StoreLatestDownloadView
    with mock.patch.object(view, "get", side_effect=AssertionError("DRF must not answer")):
        fast = api_client.get(url + query)
    separator = "&" if query else "?"
    drf = api_client.get(f"{url}{query}{separator}unknown=1")  # a parameter the fast answer leaves to DRF
    assert _comparable(fast) == _comparable(drf)
    assert fast.status_code == (302 if "redirect=1" in query or "true" in query else 200)
    assert fast["Cache-Control"] == "no-store"


@pytest.mark.usefixtures("no_ratelimits", "fixed_url")
def test_fast_answer_matches_an_authenticated_device_answer(api_client):
    from accounts.models import Device
    from accounts.tokens import hash_secret

    app = make_published_app(versions=1)
    url = f"/v1/store/apps/{app.package_id}/download"
    token = "md_" + "e" * 40
    Device.objects.create(platform="mosis-os", mosis_version="1.5", token_hash=hash_secret(token))
    device = type(api_client)()
    device.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert _comparable(api_client.get(url)) == _comparable(device.get(url))


@pytest.mark.usefixtures("no_ratelimits")
@pytest.mark.parametrize(
    "query,status",
    [
        ("?redirect=", 200),  # blank: DRF's default (False)
        ("?redirect=maybe", 400),
        ("?mosis_version=x", 400),
        ("?mosis_version=%201.5", 200),  # DRF trims it
        ("?mosis_version=", 200),
        ("?redirect=1&redirect=0", 200),  # repeated: DRF reads the last
        ("?mosis_version=0.5", 404),
    ],
)
def test_queries_the_fast_answer_leaves_to_drf_get_drf_answers(api_client, query, status):
    app = make_published_app(versions=0)
    make_version(app, code=1, min_mosis="1.0")
    response = api_client.get(f"/v1/store/apps/{app.package_id}/download{query}")
    assert response.status_code == status
    if status >= 400:
        assert "error" in response.json()


@pytest.mark.usefixtures("no_ratelimits")
def test_not_found_falls_back_to_drf_and_counts_nothing(api_client):
    app = make_published_app(versions=1)
    base = f"/v1/store/apps/{app.package_id}"
    for url in (f"{base}/versions/9/download", "/v1/store/apps/no.such.app/download"):
        response = api_client.get(url)
        assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
    assert api_client.get(f"{base}/versions/99999999999999999999/download").status_code == 404
    assert downloads_rollup() == 0


def test_fast_answer_still_counts_the_rate_limit(api_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "read": "2/h"}
    app = make_published_app(versions=1)
    url = f"/v1/store/apps/{app.package_id}/download"
    first, second, third = (api_client.get(url, {"redirect": "1"}) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (302, 302, 429)
    assert not first.has_header("X-RateLimit-Remaining")  # a public answer: no per-client counters
    assert third.json()["error"]["code"] == "RATE_LIMITED"
    assert (third["X-RateLimit-Limit"], third["X-RateLimit-Remaining"]) == ("2", "0")


# --- The Redis store ----------------------------------------------------------------------------------


@requires_redis
@pytest.mark.usefixtures("no_ratelimits")
def test_warm_redirect_runs_no_sql_on_redis(api_client):
    app = make_published_app(versions=1)
    url = f"/v1/store/apps/{app.package_id}/download"
    api_client.get(url, {"redirect": "1"}, REMOTE_ADDR="10.0.0.1")  # cold: builds and stores the target
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(url, {"redirect": "1"}, REMOTE_ADDR="10.0.0.2")
    assert response.status_code == 302
    assert queries.captured_queries == []
    assert downloads_rollup() == 2


@requires_redis
@pytest.mark.usefixtures("no_ratelimits")
def test_redis_round_trips_are_one_warm_and_two_cold(api_client, redis_round_trips):
    """Cold: the lookup script misses, then one script stores the target and counts (a pipeline holding a
    script would ask SCRIPT EXISTS first). Warm: the lookup script finds and counts. Each counts once."""
    app = make_published_app(versions=1)
    url = f"/v1/store/apps/{app.package_id}/download"
    redis_round_trips.clear()
    assert api_client.get(url, {"redirect": "1"}, REMOTE_ADDR="10.0.0.1").status_code == 302
    assert redis_round_trips == [["EVALSHA"], ["EVALSHA"]]
    redis_round_trips.clear()
    assert api_client.get(url, {"redirect": "1"}, REMOTE_ADDR="10.0.0.2").status_code == 302
    assert redis_round_trips == [["EVALSHA"]]
    assert downloads_rollup() == 2


@requires_redis
def test_redis_counts_once_per_client_version_and_day():
    from store.downloads import counter as downloads_redis

    app = make_published_app(versions=2)
    v1, v2 = app.versions.order_by("version_code")
    for version, client, day in [(v1, "a", TODAY), (v1, "a", TODAY), (v1, "b", TODAY), (v2, "a", TODAY)]:
        download_record(version=version, client_hash=client, day=day)
    download_record(version=v1, client_hash="a", day=TODAY - dt.timedelta(days=1))
    counts = downloads_redis.day_counts([TODAY, TODAY - dt.timedelta(days=1)])
    assert counts == {
        (v1.pk, app.pk, TODAY): 2,
        (v2.pk, app.pk, TODAY): 1,
        (v1.pk, app.pk, TODAY - dt.timedelta(days=1)): 1,
    }


@requires_redis
def test_rollup_never_lowers_a_figure_when_redis_lost_its_counts():
    from django.core.cache import cache

    app = make_published_app()
    version = app.versions.get()
    for client in ("a", "b", "c"):
        download_record(version=version, client_hash=client, day=TODAY)
    assert downloads_rollup(today=TODAY) == 3
    cache.clear()  # Redis restarted empty
    download_record(version=version, client_hash="d", day=TODAY)
    assert downloads_rollup(today=TODAY) == 0
    assert DownloadDaily.objects.get(version=version, day=TODAY).count == 3
    assert _figures(app) == (3, 3)
    for client in ("e", "f", "g"):  # once Redis's figure passes the stored one it wins again
        download_record(version=version, client_hash=client, day=TODAY)
    assert downloads_rollup(today=TODAY) == 1
    assert _figures(app) == (4, 4)


@requires_redis
def test_downloads_just_before_midnight_are_folded_the_next_day():
    app = make_published_app()
    version = app.versions.get()
    yesterday = TODAY - dt.timedelta(days=1)
    download_record(version=version, client_hash="a", day=yesterday)
    assert downloads_rollup(today=yesterday) == 1
    download_record(version=version, client_hash="b", day=yesterday)  # after yesterday's last rollup
    download_record(version=version, client_hash="a", day=TODAY)
    assert downloads_rollup(today=TODAY) == 2
    assert DownloadDaily.objects.get(version=version, day=yesterday).count == 2
    assert _figures(app) == (3, 3)


@requires_redis
def test_redis_counts_of_a_deleted_version_are_skipped():
    app = make_published_app(versions=2)
    v1, v2 = app.versions.order_by("version_code")
    download_record(version=v1, client_hash="a", day=TODAY)
    download_record(version=v2, client_hash="a", day=TODAY)
    v1.delete()
    assert downloads_rollup(today=TODAY) == 1
    assert list(DownloadDaily.objects.values_list("version_id", "count")) == [(v2.pk, 1)]


# --- The cold download: one narrow SELECT, the same 404s as before ---------------------------------------


def test_download_target_lookup_is_one_query_and_follows_the_rules(django_assert_num_queries):
    from store.downloads.services import download_target_lookup
    from versions.constants import mosis_version_number

    app = make_published_app(versions=0, max_mosis_version_override="1.8")
    make_version(app, code=1, min_mosis="1.0")
    make_version(app, code=2, min_mosis="1.5")
    make_version(app, code=3, yanked=True)
    with django_assert_num_queries(1):
        target = download_target_lookup(package_id=app.package_id)
    assert (target.version_code, target.package_id, target.app_id) == (2, app.package_id, app.pk)
    assert (
        download_target_lookup(package_id=app.package_id, mosis_num=mosis_version_number("1.2")).version_code
        == 1
    )
    assert (
        download_target_lookup(package_id=app.package_id, mosis_num=mosis_version_number("1.9")) is None
    )  # cap
    assert (
        download_target_lookup(package_id=app.package_id, version_code=3).version_code == 3
    )  # yanked: by code
    assert download_target_lookup(package_id=app.package_id, version_code=9) is None
    assert download_target_lookup(package_id="no.such.app") is None
    type(app).objects.filter(pk=app.pk).update(status="disabled")
    assert download_target_lookup(package_id=app.package_id) is None


@pytest.mark.usefixtures("no_ratelimits")
@pytest.mark.parametrize(
    "path,message",
    [
        ("/v1/store/apps/no.such.app/download", "App not found."),
        ("/v1/store/apps/{pkg}/download?mosis_version=0.5", "No compatible published version."),
        ("/v1/store/apps/{pkg}/versions/9/download", "Version not found."),
        ("/v1/store/apps/no.such.app/versions/1/download", "App not found."),
    ],
)
def test_download_404s_say_what_is_missing(api_client, path, message):
    app = make_published_app(versions=0)
    make_version(app, code=1, min_mosis="1.0")
    response = api_client.get(path.format(pkg=app.package_id))
    assert response.status_code == 404
    assert response.json()["error"]["message"] == message


@pytest.mark.parametrize(
    "query,expected",
    [
        ("", (False, None)),
        ("redirect=1", (True, None)),
        ("redirect=false&", (False, None)),
        ("mosis_version=2.1&redirect=true", (True, 2_001_000)),
    ],
)
def test_the_download_query_is_read_by_its_serializer_alone(rf, query, expected):
    """One reading of the query for the DRF views and the fast answer: DownloadQuerySerializer's."""
    request = rf.get(f"/d?{query}")
    assert download_views.download_query(request) == expected
    data = DownloadQuerySerializer(data=request.GET)
    assert (
        data.is_valid()
        and (data.validated_data.get("redirect", False), data.validated_data.get("mosis_version") or None)
        == expected
    )


@pytest.mark.parametrize("query", ["redirect=maybe", "mosis_version=x", "mosis_version=1.2.3.4"])
def test_a_query_the_serializer_refuses_is_left_to_drf(rf, api_client, query):
    with pytest.raises(ValidationError):
        download_views.download_query(rf.get(f"/d?{query}"))
    assert download_views.download_response(rf.get(f"/d?{query}"), "any.app") is None


@requires_redis
@pytest.mark.usefixtures("no_ratelimits")
def test_a_download_target_stays_cached_for_its_own_ttl(api_client, settings, redis_round_trips):
    """Targets are generation-keyed (never stale), so they outlive the served documents' STORE_CACHE_TTL;
    with the store cache off nothing is stored and every download takes the cold path."""
    client = redis_adapter.client()
    settings.STORE_CACHE_TTL, settings.DOWNLOAD_TARGET_TTL = 300, 3600
    app = make_published_app(versions=1)
    url = f"/v1/store/apps/{app.package_id}/download"
    assert api_client.get(url, {"redirect": "1"}).status_code == 302
    keys = client.keys(redis_adapter.key(f"store:v1:dl:t:{app.package_id}:*"))
    assert len(keys) == 1 and 3500 < client.ttl(keys[0]) <= 3600

    settings.STORE_CACHE_TTL = 0
    other = make_published_app(versions=1)
    other_url = f"/v1/store/apps/{other.package_id}/download"
    for address in ("10.0.0.1", "10.0.0.2"):
        redis_round_trips.clear()
        assert api_client.get(other_url, {"redirect": "1"}, REMOTE_ADDR=address).status_code == 302
        assert redis_round_trips == [["EVALSHA"], ["EVALSHA"]]  # looked up, missed, counted: nothing stored
    assert client.keys(redis_adapter.key(f"store:v1:dl:t:{other.package_id}:*")) == []
    assert downloads_rollup() == 3


def test_download_target_ttl_follows_the_store_cache_switch(settings):
    settings.STORE_CACHE_TTL, settings.DOWNLOAD_TARGET_TTL = 300, 3600
    assert downloads.download_target_ttl() == 3600
    settings.STORE_CACHE_TTL = 0
    assert downloads.download_target_ttl() == 0
    settings.STORE_CACHE_TTL, settings.DOWNLOAD_TARGET_TTL = 300, -5
    assert downloads.download_target_ttl() == 0


@pytest.mark.usefixtures("no_ratelimits")
def test_store_cache_value_honours_its_timeout():
    from store.catalog.services.cache import store_cache_value

    built = []

    def build():
        built.append(1)
        return "value"

    assert store_cache_value(parts=("t", 1), build=build, package_id="com.t.a", timeout=0) == "value"
    assert store_cache_value(parts=("t", 1), build=build, package_id="com.t.a", timeout=0) == "value"
    assert len(built) == 2  # 0: never stored
    store_cache_value(parts=("t", 2), build=build, package_id="com.t.a", timeout=60)
    store_cache_value(parts=("t", 2), build=build, package_id="com.t.a", timeout=60)
    assert len(built) == 3  # stored once, then read


@requires_redis
def test_reads_and_downloads_are_served_from_the_database_while_redis_is_down(api_client, settings):
    """An unreachable Redis is a cache miss for the store's reads, a database count for a download and an
    open door for the rate limits: nothing answers 500."""
    from store.models import DownloadEvent

    app = make_published_app(versions=1)
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:9/0"}}
    assert api_client.get(f"/v1/store/apps/{app.package_id}").status_code == 200
    assert api_client.get("/v1/store/apps", {"sort": "popular"}).status_code == 200
    url = f"/v1/store/apps/{app.package_id}/download"
    assert api_client.get(url, {"redirect": "1"}).status_code == 302
    assert DownloadEvent.objects.filter(app=app).count() == 1  # folded by the rollup like any event
