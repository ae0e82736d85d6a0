"""Store icons: a developer's icon_url wins, else the shown version's packaged icon at a stable URL that
the store serves (immutable, ETag/304), else "". Hidden apps, unpublished versions and icon-less versions
answer 404 in the SPEC §3 format."""

from urllib.parse import urlsplit

import pytest

from apps.constants import AppStatus
from mosis.core import storage
from mosis_package.builder import make_icon_png
from store.catalog.links import packaged_icon_url, store_icon_url
from store.catalog.services.listing import listing_refresh
from tests.factories import community_device
from versions.constants import VersionStatus

from .conftest import make_published_app, make_version, read_catalog

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_ratelimits")]


@pytest.fixture(autouse=True)
def _site_url(settings):
    """One configured site URL, so URLs made inside and outside a request agree."""
    settings.SITE_URL = "http://store.test"


ICON = make_icon_png(32)


def _with_icon(app, *, code: int, png: bytes = ICON, **fields):
    key = f"apps/{app.pk}/{code}-icon.png"
    storage.put_bytes(key, png)
    return make_version(app, code=code, icon_key=key, **fields)


def _app_with_icons(**app_fields):
    """Versions 1 (for Mosis 1.x) and 2 (2.0+), each with its own packaged icon."""
    app = make_published_app(versions=0, **app_fields)
    _with_icon(app, code=1, png=make_icon_png(16), max_mosis="1.9")
    _with_icon(app, code=2, min_mosis="2.0")
    listing_refresh(app_id=app.pk)
    return app


def _path(url: str) -> str:
    return urlsplit(url).path


def test_listing_points_at_the_shown_versions_packaged_icon(api_client, settings):
    app = _app_with_icons()
    listing = api_client.get(f"/v1/store/apps/{app.package_id}").json()
    expected = f"{settings.SITE_URL}/v1/store/apps/{app.package_id}/versions/2/icon"
    assert listing["icon_url"] == expected

    response = api_client.get(_path(expected))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content == ICON and response["Content-Length"] == str(len(ICON))
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    etag = response["ETag"]

    again = api_client.get(_path(expected), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert api_client.get(_path(expected), HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_browse_by_mosis_version_shows_the_compatible_versions_icon(api_client):
    app = _app_with_icons()
    old = api_client.get("/v1/store/apps", {"mosis_version": "1.5"}).json()["apps"]
    new = api_client.get("/v1/store/apps").json()["apps"]
    assert [a["icon_url"].rsplit("/", 3)[-3:] for a in old] == [["versions", "1", "icon"]]
    assert [a["icon_url"].rsplit("/", 3)[-3:] for a in new] == [["versions", "2", "icon"]]
    assert api_client.get(_path(old[0]["icon_url"])).content == make_icon_png(16)
    assert app.package_id in old[0]["icon_url"]


def test_a_developer_icon_url_wins_and_no_icon_at_all_stays_empty(api_client):
    own = _app_with_icons(icon_url="https://cdn.test/own.png")
    bare = make_published_app(versions=1)  # no packaged icon either
    body = {a["package_id"]: a for a in api_client.get("/v1/store/apps").json()["apps"]}
    assert body[own.package_id]["icon_url"] == "https://cdn.test/own.png"
    assert body[bare.package_id]["icon_url"] == ""
    catalog = {a["package_id"]: a for a in read_catalog(api_client.get("/v1/store/catalog"))["apps"]}
    assert catalog[own.package_id]["icon_url"] == "https://cdn.test/own.png"
    assert catalog[bare.package_id]["icon_url"] == ""


def test_catalog_and_device_plans_carry_the_packaged_icon(api_client):
    app = _app_with_icons()
    url = packaged_icon_url(package_id=app.package_id, version_code=2)
    catalog = read_catalog(api_client.get("/v1/store/catalog"))["apps"]
    assert [a["icon_url"] for a in catalog] == [url]

    _, token = community_device(mosis_version="2.1")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    plan = api_client.post(
        "/v1/devices/me/plan?dryrun=1", {"install": [{"package_id": app.package_id}]}, format="json"
    )
    assert plan.status_code == 200, plan.content
    assert [step["icon_url"] for step in plan.json()["install"]] == [url]


def test_a_yanked_versions_icon_is_still_served(api_client):
    app = _app_with_icons()
    app.versions.filter(version_code=1).update(yanked_at=app.created_at)
    response = api_client.get(f"/v1/store/apps/{app.package_id}/versions/1/icon")
    assert response.status_code == 200 and response.content == make_icon_png(16)


@pytest.mark.parametrize(
    "case",
    ["unknown app", "suspended app", "draft version", "unknown version", "no icon", "object gone"],
)
def test_icon_404s_in_the_error_format(api_client, case):
    app = _app_with_icons()
    package_id, code = app.package_id, 2
    if case == "unknown app":
        package_id = "com.nobody.here"
    elif case == "suspended app":
        app.status = AppStatus.SUSPENDED
        app.save(update_fields=["status"])
    elif case == "draft version":
        _with_icon(app, code=3, status=VersionStatus.DRAFT)
        code = 3
    elif case == "unknown version":
        code = 99
    elif case == "no icon":
        make_version(app, code=3)
        code = 3
    elif case == "object gone":
        storage.delete_object(app.versions.get(version_code=2).icon_key)
    response = api_client.get(f"/v1/store/apps/{package_id}/versions/{code}/icon")
    assert response.status_code == 404
    body = response.json()
    assert body["error"]["code"] == "NOT_FOUND", body
    assert body["error"]["message"]


def test_icon_answers_are_in_the_schema(api_client):
    schema = api_client.get("/v1/openapi.json").json()
    operation = schema["paths"]["/v1/store/apps/{package_id}/versions/{version_code}/icon"]["get"]
    assert operation["operationId"] == "store_app_version_icon"
    assert "image/png" in operation["responses"]["200"]["content"]
    assert "304" in operation["responses"] and "404" in operation["responses"]


def test_store_icon_url_follows_site_url(settings):
    assert store_icon_url(
        icon_url="https://x.test/i.png", package_id="a.b", version_code=1, icon_key="k"
    ) == ("https://x.test/i.png")
    assert store_icon_url(icon_url="", package_id="a.b", version_code=None, icon_key="k") == ""
    assert store_icon_url(icon_url="", package_id="a.b", version_code=3, icon_key="") == ""
    settings.SITE_URL = "https://store.example.org/"
    assert store_icon_url(icon_url="", package_id="a.b", version_code=3, icon_key="k") == (
        "https://store.example.org/v1/store/apps/a.b/versions/3/icon"
    )


def test_migration_drops_only_documents_whose_icon_url_now_differs(api_client):
    import importlib

    from django.apps import apps as django_apps

    from store.models import AppListing

    packaged = _app_with_icons()
    own = _app_with_icons(icon_url="https://cdn.test/own.png")
    bare = make_published_app(versions=1)
    AppListing.objects.update(listing_document='{"icon_url":""}')  # as 0006 rendered them

    importlib.import_module("store.migrations.0007_listing_documents_packaged_icon").drop_stale_documents(
        django_apps, None
    )

    documents = dict(AppListing.objects.values_list("app_id", "listing_document"))
    assert documents[packaged.pk] is None  # rendered again by its next read
    assert documents[own.pk] is not None and documents[bare.pk] is not None
    listing = api_client.get(f"/v1/store/apps/{packaged.package_id}").json()
    assert listing["icon_url"] == packaged_icon_url(package_id=packaged.package_id, version_code=2)


def test_an_icon_costs_two_queries(api_client, django_assert_num_queries):
    app = _app_with_icons()
    with django_assert_num_queries(2):  # the reachable app, then its published version
        assert api_client.get(f"/v1/store/apps/{app.package_id}/versions/2/icon").status_code == 200
