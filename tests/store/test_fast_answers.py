"""Fast answers of the public reads (``mosis.core.fastpath``): browse, categories, versions and the stored
listing document answer anonymous GETs without DRF's dispatch, byte for byte what DRF sends, and leave
everything they cannot answer (a cache miss, a query to validate, a hidden app) to DRF."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from apps.constants import AppStatus
from apps.models import Category
from store.catalog import views as catalog_views
from store.catalog.serializers import ListingSerializer
from store.catalog.services.listing import (
    listing_documents_fill,
    listing_refresh,
    listing_refresh_ratings,
)
from store.downloads.services import listing_downloads_recompute
from store.models import AppListing, DownloadDaily, Review
from tests.factories import UserFactory

from .conftest import make_published_app, make_version

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _comparable(response):
    headers = {
        k: v for k, v in response.headers.items() if k != "X-Request-ID" and not k.startswith("X-RateLimit")
    }
    return response.status_code, headers, response.content


LIST_READS = [
    ("/v1/store/apps{query}", catalog_views.StoreAppListView),
    ("/v1/store/categories{query}", catalog_views.StoreCategoryListView),
    ("/v1/store/apps/{pkg}/versions{query}", catalog_views.StoreAppVersionsView),
]


@pytest.mark.usefixtures("no_ratelimits")
@pytest.mark.parametrize("path,view", LIST_READS)
@pytest.mark.parametrize("query", ["", "?limit=1", "?page=2&limit=1"])
def test_a_stored_list_page_is_answered_without_drf(api_client, path, view, query):
    app = make_published_app(versions=2)
    make_published_app()
    url = path.format(pkg=app.package_id, query=query)
    drf = api_client.get(url)  # a miss: DRF validates, builds and stores the page
    assert drf.status_code == 200
    with mock.patch.object(view, "get", side_effect=AssertionError("DRF must not answer")):
        fast = api_client.get(url)
        gzip_fast = api_client.get(url, HTTP_ACCEPT_ENCODING="gzip")
        not_modified = api_client.get(url, HTTP_IF_NONE_MATCH=drf["ETag"])
    assert _comparable(fast) == _comparable(drf)
    assert fast["Allow"] == "GET, HEAD, OPTIONS"  # what DRF's finalize_response adds
    assert not_modified.status_code == 304 and not_modified["ETag"] == drf["ETag"]
    assert gzip_fast.status_code == 200


@pytest.mark.usefixtures("no_ratelimits")
def test_browse_parameters_the_view_ignores_share_the_stored_page(api_client):
    make_published_app()
    api_client.get("/v1/store/apps?sort=name")
    with mock.patch.object(catalog_views.StoreAppListView, "get", side_effect=AssertionError("DRF answered")):
        assert api_client.get("/v1/store/apps?sort=name&utm_source=x&_=123").status_code == 200


@pytest.mark.usefixtures("no_ratelimits")
@pytest.mark.parametrize(
    "query,status",
    [("?sort=nope", 400), ("?limit=0", 400), ("?page=x", 400), ("?mosis_version=x", 400), ("?q=a", 200)],
)
def test_queries_never_stored_go_to_drf_which_validates_them(api_client, query, status):
    make_published_app()
    for _ in range(2):  # the second time too: an invalid query is never stored
        response = api_client.get(f"/v1/store/apps{query}")
        assert response.status_code == status
        if status >= 400:
            assert response.json()["error"]["code"] == "VALIDATION_ERROR"


@pytest.mark.usefixtures("no_ratelimits")
def test_a_change_makes_the_stored_page_unreachable_to_the_fast_answer(api_client, changed):
    app = make_published_app()
    assert [a["package_id"] for a in api_client.get("/v1/store/apps").json()["apps"]] == [app.package_id]
    type(app).objects.filter(pk=app.pk).update(status=AppStatus.DISABLED)
    changed(app, "status")
    assert api_client.get("/v1/store/apps").json()["apps"] == []


# --- The stored listing document ------------------------------------------------------------------------


def _serializer_listing(app) -> dict:
    """What ListingSerializer gives for the app's default listing (the reference the document must equal)."""
    listing = AppListing.objects.select_related("app", "category", "latest_version").get(app=app)
    listing.shown_version = listing.latest_version
    changelog = list(app.versions.filter(status="published").order_by("-version_code"))
    return json.loads(json.dumps(ListingSerializer(listing, context={"changelog": changelog}).data))


@pytest.mark.usefixtures("no_ratelimits")
def test_the_listing_document_equals_the_serializer_output(api_client, django_assert_num_queries):
    app = make_published_app(versions=0, tags=["x", "y"], long_description="**Bold** text")
    make_version(app, code=1, min_mosis="1.0", dependencies={"com.example.lib": "^1.0.0"})
    make_version(app, code=2, languages=["de"], permissions=["network"], yanked=True)
    make_version(app, code=3, max_mosis="3.0", requires_restart=True)
    Review.objects.create(app=app, user=UserFactory(), rating=4)
    Review.objects.create(app=app, user=UserFactory(), rating=5)
    AppListing.objects.filter(app=app).update(downloads_total=12, downloads_recent=3)
    listing_refresh(app_id=app.pk)
    listing_refresh_ratings(app_id=app.pk)
    with (
        mock.patch.object(
            catalog_views.StoreAppDetailView, "get", side_effect=AssertionError("DRF answered")
        ),
        django_assert_num_queries(1),
    ):
        response = api_client.get(f"/v1/store/apps/{app.package_id}")
    body = response.json()
    assert body == _serializer_listing(app)
    assert (body["download_count"], body["downloads_recent"], body["rating"], body["ratings"]) == (
        12,
        3,
        4.5,
        [0, 0, 0, 1, 1],
    )
    assert [entry["version_code"] for entry in body["changelog"]] == [3, 2, 1]
    assert (
        response["Allow"] == "GET, HEAD, OPTIONS"
        and response["Cache-Control"] == "public, max-age=60, stale-while-revalidate=30"
    )


@pytest.mark.usefixtures("no_ratelimits")
def test_the_listing_is_the_same_through_drf_and_the_fast_answer(api_client):
    app = make_published_app(versions=2, long_description="x" * 2000)  # big enough to be gzipped
    url = f"/v1/store/apps/{app.package_id}"
    for headers in ({}, {"HTTP_ACCEPT_ENCODING": "gzip"}):
        fast = api_client.get(url, **headers)
        drf = api_client.get(url + "?unknown=1", **headers)  # a query: DRF answers
        assert _comparable(fast) == _comparable(drf)
        assert api_client.get(url, HTTP_IF_NONE_MATCH=fast["ETag"], **headers).status_code == 304
    assert api_client.get(url, HTTP_ACCEPT_ENCODING="gzip")["Content-Encoding"] == "gzip"


@pytest.mark.usefixtures("no_ratelimits")
def test_figures_that_move_render_the_stored_document_again(api_client):
    """The stored listing is ListingSerializer's output, figures included (no splice at read time): the
    download rollup's recompute and a rating change render it again, the same bytes the serializer gives."""
    app = make_published_app()
    other = make_published_app()
    url = f"/v1/store/apps/{app.package_id}"
    before = api_client.get(url).json()
    other_document = AppListing.objects.get(app=other).listing_document
    today = timezone.now().date()
    DownloadDaily.objects.create(version=app.versions.get(), app=app, day=today, count=7)
    assert listing_downloads_recompute(today=today, app_ids={app.pk}) == {app.pk}
    Review.objects.create(app=app, user=UserFactory(), rating=3)
    listing_refresh_ratings(app_id=app.pk)
    after = api_client.get(url).json()
    assert (after["download_count"], after["downloads_total"], after["downloads_recent"]) == (7, 7, 7)
    assert (after["rating"], after["rating_count"], after["ratings"]) == (3.0, 1, [0, 0, 1, 0, 0])
    assert after == {**before, **{k: after[k] for k in FIGURES}}
    assert api_client.get(url).content == JSONRenderer().render(_serializer_listing(app))
    assert AppListing.objects.get(app=other).listing_document == other_document  # not rendered again
    assert listing_downloads_recompute(today=today, app_ids={app.pk}) == set()  # nothing moved: no render


FIGURES = ("download_count", "downloads_recent", "rating", "rating_count", "downloads_total", "ratings")


@pytest.mark.usefixtures("no_ratelimits")
def test_a_publish_renders_the_document_again(api_client, changed):
    app = make_published_app(versions=1)
    url = f"/v1/store/apps/{app.package_id}"
    assert api_client.get(url).json()["latest_version"] == "1.1.0"
    make_version(app, code=2)
    changed(app, "published")
    body = api_client.get(url).json()
    assert body["latest_version"] == "1.2.0" and [e["version_code"] for e in body["changelog"]] == [2, 1]


@pytest.mark.usefixtures("no_ratelimits")
@pytest.mark.parametrize("status", [AppStatus.DISABLED, AppStatus.SUSPENDED, AppStatus.DRAFT])
def test_a_hidden_app_is_not_found_at_once_even_with_a_stored_document(api_client, status):
    """Visibility is the app's live status (joined in the same SELECT), not the stored JSON."""
    app = make_published_app()
    url = f"/v1/store/apps/{app.package_id}"
    assert api_client.get(url).status_code == 200
    type(app).objects.filter(pk=app.pk).update(status=status)  # no signal: the document stays stored
    response = api_client.get(url)
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.usefixtures("no_ratelimits")
def test_an_unlisted_app_is_still_reachable_by_package_id(api_client, changed):
    app = make_published_app()
    type(app).objects.filter(pk=app.pk).update(status=AppStatus.UNLISTED)
    changed(app, "status")
    body = api_client.get(f"/v1/store/apps/{app.package_id}").json()
    assert body["listed"] is False and body["package_id"] == app.package_id


@pytest.mark.usefixtures("no_ratelimits")
def test_renaming_a_category_renders_its_apps_documents_again(api_client, django_capture_on_commit_callbacks):
    app = make_published_app()
    url = f"/v1/store/apps/{app.package_id}"
    api_client.get("/v1/store/categories")
    category = Category.objects.get(pk=app.category_id)
    with django_capture_on_commit_callbacks(execute=True):
        category.slug = "renamed-slug"
        category.save()
    assert AppListing.objects.get(app=app).listing_document is None
    assert api_client.get(url).json()["category"] == "renamed-slug"
    assert AppListing.objects.get(app=app).listing_document is not None  # stored again by that read
    slugs = [c["slug"] for c in api_client.get("/v1/store/categories").json()["categories"]]
    assert "renamed-slug" in slugs


def test_listing_documents_fill_renders_missing_rows_in_batches(django_assert_max_num_queries):
    apps = [make_published_app(versions=2) for _ in range(5)]
    hidden = make_published_app(status=AppStatus.DRAFT)
    AppListing.objects.update(listing_document=None, long_description_html=None)
    with django_assert_max_num_queries(3 * 3 + 1):  # per batch: rows, changelogs, one bulk UPDATE
        assert listing_documents_fill(batch_size=2) == 5
    assert AppListing.objects.get(app=hidden).listing_document is None  # never served: not rendered
    for app in apps:
        stored = AppListing.objects.get(app=app)
        assert stored.listing_document is not None and stored.long_description_html is not None
    assert listing_documents_fill() == 0  # nothing missing any more


@pytest.mark.usefixtures("no_ratelimits")
def test_listing_with_a_query_is_answered_by_drf(api_client):
    app = make_published_app(versions=0)
    make_version(app, code=1)
    make_version(app, code=2, min_mosis="2.0")
    listing_refresh(app_id=app.pk)
    url = f"/v1/store/apps/{app.package_id}"
    assert api_client.get(url).json()["latest_version"] == "1.2.0"
    assert api_client.get(url + "?mosis_version=1.5").json()["latest_version"] == "1.1.0"
    assert api_client.get(url + "?mosis_version=bad").status_code == 400


def test_render_listings_command_fills_missing_documents_and_all_with_all():
    from io import StringIO

    from django.core.management import call_command

    app = make_published_app()
    AppListing.objects.filter(app=app).update(listing_document=None)
    out = StringIO()
    call_command("render_listings", stdout=out)
    assert out.getvalue().strip() == "rendered 1 listing document(s)"
    assert AppListing.objects.get(app=app).listing_document is not None
    call_command("render_listings", stdout=out)
    assert out.getvalue().splitlines()[-1] == "rendered 0 listing document(s)"
    call_command("render_listings", "--all", "--batch-size", "1", stdout=out)
    assert out.getvalue().splitlines()[-1] == "rendered 1 listing document(s)"


def test_render_listings_all_also_rebuilds_a_built_catalog(api_client, settings):
    """After a change to the listing's fields or to SITE_URL the catalog carries the same fields."""
    from io import StringIO
    from unittest import mock

    from django.core.management import call_command

    settings.CATALOG_META_MEMO_SECONDS = 0
    make_published_app()
    assert api_client.get("/v1/store/catalog").status_code == 200  # a document exists
    out = StringIO()
    with mock.patch("store.tasks.catalog_rebuild.apply_async") as apply_async:
        call_command("render_listings", stdout=out)  # only missing documents: the catalog is left alone
        assert not apply_async.called
        call_command("render_listings", "--all", stdout=out)
    assert apply_async.call_count == 1
    assert out.getvalue().splitlines()[-1] == "catalog rebuild scheduled"


@pytest.mark.parametrize("apps", [2, 8])
def test_the_rollups_render_is_a_fixed_number_of_queries(apps, django_assert_num_queries):
    """Finding the moved listings, updating them and rendering their documents: five queries at any count
    (one SELECT, one UPDATE, then per batch of 500 the rows, their changelogs and one bulk UPDATE)."""
    made = [make_published_app() for _ in range(apps)]
    today = timezone.now().date()
    DownloadDaily.objects.bulk_create(
        DownloadDaily(version=app.versions.get(), app=app, day=today, count=3) for app in made
    )
    with django_assert_num_queries(5):
        assert listing_downloads_recompute(today=today, app_ids={app.pk for app in made}) == {
            app.pk for app in made
        }
    assert all(
        b'"download_count":3' in AppListing.objects.get(app=app).listing_document.encode() for app in made
    )
