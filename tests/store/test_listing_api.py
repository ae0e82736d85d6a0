"""GET /v1/store/apps/{package_id} and .../versions: SPEC §5 fields, reachability, versions list, query counts."""

import pytest
from django.core.cache import cache

from apps.constants import AppStatus
from store.catalog.services.listing import listing_refresh, listing_refresh_ratings
from store.models import Review
from tests.factories import UserFactory
from versions.constants import VersionStatus

from .conftest import make_published_app, make_version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_ratelimits")]


def test_listing_has_every_spec_field(api_client):
    app = make_published_app(
        versions=0,
        long_description="# Notes\n\nWrite **fast**.<script>alert(1)</script>",
        homepage_url="https://example.com",
        support_url="https://example.com/help",
        screenshots=["https://example.com/1.png"],
    )
    make_version(app, code=1, release_notes="First.")
    make_version(
        app,
        code=2,
        release_notes="Second.",
        min_mosis="1.2",
        max_mosis="2.9",
        permissions=["network"],
        dependencies={"com.example.sync": "^2.1.0"},
        languages=["en", "fr"],
        requires_restart=True,
    )
    make_version(app, code=3, status=VersionStatus.REVIEW)
    for rating in (5, 4, 4):
        Review.objects.create(app=app, user=UserFactory(), rating=rating)
    listing_refresh(app_id=app.pk)
    listing_refresh_ratings(app_id=app.pk)

    body = api_client.get(f"/v1/store/apps/{app.package_id}").json()
    assert body["latest_version"] == "1.2.0" and body["version_code"] == 2
    assert body["long_description"].startswith("# Notes")
    assert "<strong>fast</strong>" in body["long_description_html"]
    assert "<script>" not in body["long_description_html"]
    assert body["screenshots"] == ["https://example.com/1.png"]
    assert [c["version_code"] for c in body["changelog"]] == [2, 1]
    assert body["changelog"][0]["release_notes"] == "Second."
    assert body["ratings"] == [0, 0, 0, 2, 1]
    assert body["rating_count"] == 3 and body["rating"] == 4.33
    assert body["downloads_total"] == 0 and body["downloads_recent"] == 0
    assert body["homepage_url"] == "https://example.com"
    assert body["support_url"] == "https://example.com/help"
    assert body["languages"] == ["en", "fr"]
    assert body["requires_restart"] is True
    assert body["permissions"] == ["network"]
    assert body["dependencies"] == {"com.example.sync": "^2.1.0"}
    assert (body["min_mosis_version"], body["max_mosis_version"]) == ("1.2", "2.9")
    assert body["disabled"] is False and body["listed"] is True


def test_unlisted_app_is_reachable_by_package_id_but_hidden_ones_are_not(api_client):
    unlisted = make_published_app(status=AppStatus.UNLISTED)
    body = api_client.get(f"/v1/store/apps/{unlisted.package_id}").json()
    assert body["listed"] is False
    for status in (AppStatus.DRAFT, AppStatus.SUSPENDED, AppStatus.DISABLED, AppStatus.PENDING_DISABLE):
        hidden = make_published_app(status=status)
        response = api_client.get(f"/v1/store/apps/{hidden.package_id}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NOT_FOUND"
    assert api_client.get("/v1/store/apps/com.nobody.here").status_code == 404


def test_listing_with_mosis_version_shows_newest_compatible(api_client):
    app = make_published_app(versions=0)
    make_version(app, code=1, max_mosis="1.9")
    make_version(app, code=2, min_mosis="2.0")
    listing_refresh(app_id=app.pk)
    url = f"/v1/store/apps/{app.package_id}"
    assert api_client.get(url, {"mosis_version": "1.0"}).json()["version_code"] == 1
    assert api_client.get(url).json()["version_code"] == 2
    assert api_client.get(url, {"mosis_version": "bad"}).status_code == 400


def test_versions_list_has_seed_004_fields_and_flags_yanked(api_client):
    app = make_published_app(versions=2)
    yanked = make_version(app, code=3, yanked=True)
    make_version(app, code=4, status=VersionStatus.DRAFT)
    body = api_client.get(f"/v1/store/apps/{app.package_id}/versions").json()
    assert body["total"] == 3
    first = body["versions"][0]
    assert first["version_code"] == 3 and first["yanked"] is True
    assert first["checksum"] == f"sha256:{yanked.sha256}"
    assert first["size"] == yanked.package_size
    assert first["download_url"] == f"/v1/store/apps/{app.package_id}/versions/3/download"
    assert first["version"] == "1.3.0" and first["published_at"]
    assert [v["yanked"] for v in body["versions"][1:]] == [False, False]
    page = api_client.get(f"/v1/store/apps/{app.package_id}/versions", {"offset": 2, "limit": 1}).json()
    assert [v["version_code"] for v in page["versions"]] == [1]


def _count_for(api_client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        assert api_client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_listing_and_versions_query_counts_do_not_grow_with_versions_or_reviews(api_client):
    small = make_published_app(versions=1)
    big = make_published_app(versions=30)
    for _ in range(30):
        Review.objects.create(app=big, user=UserFactory(), rating=4)
    listing_refresh_ratings(app_id=big.pk)
    for suffix in ("", "/versions?limit=100"):
        assert _count_for(api_client, f"/v1/store/apps/{small.package_id}{suffix}") == _count_for(
            api_client, f"/v1/store/apps/{big.package_id}{suffix}"
        )
    assert _count_for(api_client, f"/v1/store/apps/{big.package_id}") <= 3
    assert _count_for(api_client, f"/v1/store/apps/{big.package_id}/versions") <= 3


def test_listing_is_served_from_its_stored_document_with_etag(api_client, django_assert_num_queries):
    """The default listing is one SELECT of the stored document and its live figures, 304 included."""
    app = make_published_app()
    url = f"/v1/store/apps/{app.package_id}"
    first = api_client.get(url)
    assert first["Cache-Control"].startswith("public, max-age=")
    with django_assert_num_queries(1):
        assert api_client.get(url).content == first.content
    with django_assert_num_queries(1):
        again = api_client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]


@pytest.mark.parametrize("package_id", ["com.x%00y", "a" * 151])
def test_odd_package_ids_are_not_found(api_client, package_id):
    response = api_client.get(f"/v1/store/apps/{package_id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
