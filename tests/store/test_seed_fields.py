"""Seed 004 and seed 001 on the public store: one version's detail, source/type filters, the latest version's
published_at/checksum/size on every rendering of an app, catalog URL templates, and the registry metrics."""

import pytest
from django.core.cache import cache

from apps.constants import AppStatus
from store.catalog.services.listing import listing_refresh
from store.models import AppListing
from tests.factories import community_published_app, community_version

from .conftest import make_published_app, read_catalog

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_ratelimits")]

NOTES, SYNC = "com.test.notes", "com.test.sync"


# --- GET /v1/store/apps/{package_id}/versions/{version_code} -------------------------------------------------
def test_one_published_version_has_its_notes_requirements_range_size_and_sha256(api_client):
    community_published_app(SYNC, versions=("2.0.0",), name="Sync", icon_url="https://cdn.test/s.png")
    notes = community_published_app(NOTES, versions=())
    community_version(
        notes,
        "1.4.0",
        dependencies={SYNC: "^2.0.0", "com.test.ghost": "^1"},
        dependency_rules={
            SYNC: {"optional": True, "default": False, "description": "Sync.", "config": {"a": 1}}
        },
        min_mosis="1.2",
        max_mosis="2.9",
    )
    listing_refresh(app_id=notes.pk)
    response = api_client.get(f"/v1/store/apps/{NOTES}/versions/10400")
    assert response.status_code == 200, response.json()
    assert response["ETag"] and response["Cache-Control"].startswith("public")
    body = response.json()
    assert body["version"] == "1.4.0" and body["version_code"] == 10400
    assert body["release_notes"] == "Release 1.4.0"
    assert (body["min_mosis_version"], body["max_mosis_version"]) == ("1.2", "2.9")
    assert (body["size"], body["sha256"], body["checksum"]) == (1234, "ab" * 32, "sha256:" + "ab" * 32)
    assert body["download_url"] == f"/v1/store/apps/{NOTES}/versions/10400/download"
    assert body["yanked"] is False and body["published_at"]
    assert body["requirements"] == [
        {
            "id": "com.test.ghost",
            "title": "com.test.ghost",
            "icon_url": "",
            "optional": False,
            "default": True,
            "version_spec": "^1",
            "description": None,
            "config": {},
            "violation": None,
        },
        {
            "id": SYNC,
            "title": "Sync",
            "icon_url": "https://cdn.test/s.png",
            "optional": True,
            "default": False,
            "version_spec": "^2.0.0",
            "description": "Sync.",
            "config": {"a": 1},
            "violation": None,
        },
    ]
    again = api_client.get(f"/v1/store/apps/{NOTES}/versions/10400", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_a_yanked_version_keeps_its_detail_flagged(api_client):
    notes = community_published_app(NOTES, versions=("1.0.0",))
    community_version(notes, "1.1.0", yanked=True)
    body = api_client.get(f"/v1/store/apps/{NOTES}/versions/10100").json()
    assert body["yanked"] is True


@pytest.mark.parametrize(
    "path",
    [
        f"/v1/store/apps/{NOTES}/versions/10100",  # in review: not published
        f"/v1/store/apps/{NOTES}/versions/99999",
        f"/v1/store/apps/{NOTES}/versions/4294967296",
        "/v1/store/apps/com.test.nobody/versions/10000",
        f"/v1/store/apps/{NOTES}/versions/abc",
    ],
)
def test_an_unknown_or_unpublished_version_is_a_404_in_the_error_format(api_client, path):
    notes = community_published_app(NOTES, versions=("1.0.0",))
    community_version(notes, "1.1.0", status="review")
    response = api_client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_a_hidden_apps_versions_are_a_404(api_client):
    community_published_app(NOTES, versions=("1.0.0",), status=AppStatus.SUSPENDED)
    assert api_client.get(f"/v1/store/apps/{NOTES}/versions/10000").status_code == 404


def test_version_detail_runs_a_fixed_number_of_queries(api_client, django_assert_num_queries):
    community_published_app(SYNC, versions=("2.0.0",))
    notes = community_published_app(NOTES, versions=())
    community_version(
        notes, "1.0.0", dependencies={SYNC: "^2", **{f"com.test.d{i}": "^1" for i in range(20)}}
    )
    cache.clear()
    with django_assert_num_queries(3):  # the app, the version, the dependencies' listings
        assert api_client.get(f"/v1/store/apps/{NOTES}/versions/10000").status_code == 200


# --- ?source= and ?type= ---------------------------------------------------------------------------------------
def _ids(response):
    assert response.status_code == 200, response.content
    return [item["package_id"] for item in response.json()["apps"]]


def test_source_filters_the_listing(api_client, settings):
    settings.APP_SOURCES = ["mosis", "mirror"]
    here = make_published_app()
    mirrored = make_published_app(source="mirror", repository="https://git.test/m")
    assert _ids(api_client.get("/v1/store/apps", {"source": "mosis"})) == [here.package_id]
    assert _ids(api_client.get("/v1/store/apps", {"source": "mirror"})) == [mirrored.package_id]
    assert AppListing.objects.get(app=mirrored).source == "mirror"


@pytest.mark.parametrize(
    "params", [{"source": "gitea"}, {"type": "gadget"}, {"type": "app", "source": "oci"}]
)
def test_an_unknown_source_or_type_is_a_400_naming_it(api_client, params):
    make_published_app()
    response = api_client.get("/v1/store/apps", params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert set(error["details"]) == {"source" if "source" in params else "type"}


def test_a_known_type_without_apps_is_an_empty_page(api_client):
    make_published_app(type="app")
    assert _ids(api_client.get("/v1/store/apps", {"type": "cluster"})) == []


def test_browse_by_source_runs_as_many_queries_for_50_apps_as_for_one(api_client, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_published_app()
    with CaptureQueriesContext(connection) as one:
        assert api_client.get("/v1/store/apps", {"source": "mosis"}).status_code == 200
    for _ in range(49):
        make_published_app()
    cache.clear()
    with django_assert_num_queries(len(one.captured_queries)):
        body = api_client.get("/v1/store/apps", {"source": "mosis", "limit": 50}).json()
    assert len(body["apps"]) == 50


# --- published_at, checksum, size, source, repository: every rendering agrees ---------------------------------
def test_browse_listing_catalog_and_versions_agree_on_the_latest_versions_facts(api_client):
    app = make_published_app(versions=2, repository="https://git.test/notes")
    latest = app.versions.get(version_code=2)
    expected = {
        "source": "mosis",
        "repository": "https://git.test/notes",
        "checksum": f"sha256:{latest.sha256}",
        "size": latest.package_size,
    }
    item = api_client.get("/v1/store/apps").json()["apps"][0]
    listing = api_client.get(f"/v1/store/apps/{app.package_id}").json()
    compatible = api_client.get(f"/v1/store/apps/{app.package_id}", {"mosis_version": "1.5"}).json()
    catalog = read_catalog(api_client.get("/v1/store/catalog"))["apps"][0]
    version = api_client.get(f"/v1/store/apps/{app.package_id}/versions").json()["versions"][0]
    for shown in (item, listing, compatible, catalog):
        assert {k: shown[k] for k in expected} == expected
        assert shown["published_at"] == version["published_at"]
    assert version["checksum"] == expected["checksum"] and version["size"] == expected["size"]


def test_an_app_without_a_shown_version_has_null_facts(api_client):
    app = make_published_app(versions=0, status=AppStatus.UNLISTED)
    listing_refresh(app_id=app.pk)
    listing = api_client.get(f"/v1/store/apps/{app.package_id}").json()
    assert (listing["published_at"], listing["checksum"], listing["size"]) == (None, None, None)


# --- the catalog's URL templates (seed 001) --------------------------------------------------------------------
def test_the_catalog_carries_url_templates_from_the_request_host(api_client, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "store.test"]
    app = make_published_app()
    catalog = read_catalog(api_client.get("/v1/store/catalog", HTTP_HOST="store.test"))
    assert catalog["download_url_template"] == (
        "http://store.test/v1/store/apps/{package_id}/versions/{version_code}/download"
    )
    assert catalog["detail_url_template"] == "http://store.test/v1/store/apps/{package_id}"
    assert (
        catalog["icon_url_template"]
        == "http://store.test/v1/store/apps/{package_id}/versions/{version_code}/icon"
    )
    entry = catalog["apps"][0]
    filled = catalog["detail_url_template"].format(package_id=entry["package_id"])
    assert api_client.get(filled.removeprefix("http://store.test"), HTTP_HOST="store.test").json()[
        "package_id"
    ] == (app.package_id)
    download = catalog["download_url_template"].format(
        package_id=entry["package_id"], version_code=entry["version_code"]
    )
    assert (
        api_client.get(download.removeprefix("http://store.test"), HTTP_HOST="store.test").status_code == 200
    )


def test_the_catalog_names_the_host_it_is_read_from_when_no_site_url_is_set(api_client, settings):
    """The embedded store served on another port with the same data: the document was built for the first
    address; a request from the second gets one built for it (by the worker, for that base: 503 until
    then), and the first keeps its stored document."""
    from unittest import mock

    from store.catalog.services.document import catalog_rebuild
    from store.tasks import catalog_rebuild as task

    settings.SITE_URL = ""
    settings.CATALOG_META_MEMO_SECONDS = 0
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1:8000", "127.0.0.1:8124"]
    app = make_published_app()
    catalog_rebuild("http://127.0.0.1:8000")
    first = api_client.get("/v1/store/catalog", HTTP_HOST="127.0.0.1:8000")
    with mock.patch.object(task, "apply_async") as enqueued:
        waiting = api_client.get("/v1/store/catalog", HTTP_HOST="127.0.0.1:8124")
    assert waiting.status_code == 503 and waiting["Retry-After"]
    assert enqueued.call_args.kwargs["kwargs"] == {"base": "http://127.0.0.1:8124"}
    task.apply(kwargs=enqueued.call_args.kwargs["kwargs"])  # the worker runs it
    second = read_catalog(api_client.get("/v1/store/catalog", HTTP_HOST="127.0.0.1:8124"))
    assert second["detail_url_template"] == "http://127.0.0.1:8124/v1/store/apps/{package_id}"
    assert second["apps"][0]["package_id"] == app.package_id
    again = api_client.get("/v1/store/catalog", HTTP_HOST="127.0.0.1:8000")
    assert read_catalog(again)["detail_url_template"] == "http://127.0.0.1:8000/v1/store/apps/{package_id}"
    assert again["ETag"] == first["ETag"]  # still the stored document


def test_listings_and_pages_name_the_host_they_are_read_from_when_no_site_url_is_set(api_client, settings):
    """The embedded store served on two ports at once: each port's listing and browse pages name that port
    (icon URLs), though both read one database and one cache. Before, whichever port read first stored the
    listing document and the page, and the other port was handed the first port's URLs."""
    settings.SITE_URL = ""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1:8000", "127.0.0.1:8124"]
    app = make_published_app()
    AppVersion = type(app.versions.first())
    AppVersion.objects.filter(app=app).update(icon_key="icons/x.png")  # a packaged icon: an absolute URL
    from store.catalog.services.listing import listing_refresh

    listing_refresh(app_id=app.pk)
    for host in ("127.0.0.1:8124", "127.0.0.1:8000", "127.0.0.1:8124"):
        listing = api_client.get(f"/v1/store/apps/{app.package_id}", HTTP_HOST=host).json()
        assert listing["icon_url"].startswith(f"http://{host}/"), (host, listing["icon_url"])
        page = api_client.get("/v1/store/apps", HTTP_HOST=host).json()
        assert page["apps"][0]["icon_url"].startswith(f"http://{host}/"), (host, page["apps"][0]["icon_url"])


def test_site_url_wins_for_the_catalog_templates(api_client, settings):
    settings.SITE_URL = "https://cdn.example.org/"
    make_published_app()
    catalog = read_catalog(api_client.get("/v1/store/catalog"))
    assert catalog["detail_url_template"] == "https://cdn.example.org/v1/store/apps/{package_id}"


# --- /metrics (seed 004) --------------------------------------------------------------------------------------
def test_metrics_export_cache_hits_misses_and_extensions_by_type_and_status(api_client, client, monkeypatch):
    from store import metrics

    monkeypatch.setattr(metrics, "CACHE_SECONDS", 0.0)
    make_published_app(type="extension")
    make_published_app(type="extension")
    make_published_app(type="theme", status=AppStatus.DISABLED)
    cache.clear()
    api_client.get("/v1/store/categories")  # a miss, stored
    api_client.get("/v1/store/categories")  # a hit
    api_client.get("/v1/store/categories")  # a hit
    body = client.get("/metrics").content.decode()
    lines = dict(line.rsplit(" ", 1) for line in body.splitlines() if line and not line.startswith("#"))
    assert "# TYPE cache_hits_total counter" in body and "# TYPE cache_misses_total counter" in body
    assert float(lines["cache_hits_total"]) == 2
    assert float(lines["cache_misses_total"]) == 1
    assert "# TYPE extensions_total gauge" in body
    assert float(lines['extensions_total{status="published",type="extension"}']) == 2
    assert float(lines['extensions_total{status="disabled",type="theme"}']) == 1


def test_metrics_leave_out_what_cannot_be_read(monkeypatch):
    from store import metrics

    def broken():
        raise ConnectionError("cache down")

    monkeypatch.setattr(metrics, "cache_counters", broken)
    collector = metrics.StoreCollector()
    names = [family.name for family in collector.collect()]
    assert names == ["extensions_total"]
