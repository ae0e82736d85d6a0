"""Cached store reads and their invalidation, the catalog following changes, /v1/cache/stats."""

import pytest
from django.utils import timezone

from apps.constants import AppStatus
from store.models import Review
from tests.factories import UserFactory

from .conftest import make_published_app, make_version, read_catalog

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_ratelimits")]


@pytest.fixture(autouse=True)
def _no_catalog_meta_memo(settings):
    """Tests clear the cache between them; the in-process memo of the catalog's meta would outlive that."""
    settings.CATALOG_META_MEMO_SECONDS = 0


def test_catalog_lists_listed_apps_and_flags_disabled_ones(api_client, catalog_built):
    listed = make_published_app(versions=0, requires_restart=True)
    make_version(listed, code=1, min_mosis="1.0", dependencies={"com.example.lib": "^1.0.0"})
    make_version(listed, code=2, min_mosis="2.0", languages=["de"])
    make_version(listed, code=3, yanked=True)
    from store.catalog.services.listing import listing_refresh

    listing_refresh(app_id=listed.pk)
    disabled = make_published_app(status=AppStatus.DISABLED)
    make_published_app(status=AppStatus.SUSPENDED)
    make_published_app(status=AppStatus.UNLISTED)
    catalog_built()
    body = read_catalog(api_client.get("/v1/store/catalog"))
    by_id = {a["package_id"]: a for a in body["apps"]}
    assert set(by_id) == {listed.package_id, disabled.package_id}
    assert body["count"] == 2
    entry = by_id[listed.package_id]
    assert entry["disabled"] is False and by_id[disabled.package_id]["disabled"] is True
    assert entry["title"] == listed.name and entry["version_code"] == 2
    assert [v["version_code"] for v in entry["versions"]] == [2, 1]
    assert entry["versions"][1]["dependencies"] == {"com.example.lib": "^1.0.0"}
    assert entry["versions"][0]["min_mosis_version"] == "2.0"
    assert entry["languages"] == ["de"] and entry["requires_restart"] is True
    for field in (
        "downloads_total",
        "downloads_recent",
        "rating",
        "icon_url",
        "homepage_url",
        "support_url",
        "last_updated",
        "author_name",
    ):
        assert field in entry
    assert "long_description" not in entry


def test_catalog_is_rebuilt_on_publish(api_client, changed, catalog_built):
    app = make_published_app(versions=1)
    catalog_built()
    first = api_client.get("/v1/store/catalog")
    make_version(app, code=2)
    changed(app, "published")
    after = api_client.get("/v1/store/catalog", HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200
    assert read_catalog(after)["apps"][0]["version_code"] == 2
    assert api_client.get(f"/v1/store/apps/{app.package_id}").json()["version_code"] == 2
    assert api_client.get("/v1/store/apps").json()["apps"][0]["version_code"] == 2


def test_cached_reads_follow_a_yank(api_client, changed):
    app = make_published_app(versions=2)
    assert api_client.get(f"/v1/store/apps/{app.package_id}").json()["version_code"] == 2
    versions_before = api_client.get(f"/v1/store/apps/{app.package_id}/versions").json()
    assert versions_before["versions"][0]["yanked"] is False
    app.versions.filter(version_code=2).update(yanked_at=timezone.now())
    changed(app, "yanked")
    assert api_client.get(f"/v1/store/apps/{app.package_id}").json()["version_code"] == 1
    assert api_client.get(f"/v1/store/apps/{app.package_id}/versions").json()["versions"][0]["yanked"] is True
    assert api_client.get(f"/v1/store/apps/{app.package_id}/download").json()["version_code"] == 1


def test_cached_reads_follow_a_status_change(api_client, changed, catalog_built):
    app = make_published_app()
    other = make_published_app()
    catalog_built()
    assert len(api_client.get("/v1/store/apps").json()["apps"]) == 2
    assert api_client.get(f"/v1/store/apps/{app.package_id}").status_code == 200
    app.status = AppStatus.SUSPENDED
    app.save(update_fields=["status"])
    changed(app, "status")
    assert [a["package_id"] for a in api_client.get("/v1/store/apps").json()["apps"]] == [other.package_id]
    assert api_client.get(f"/v1/store/apps/{app.package_id}").status_code == 404
    assert [a["package_id"] for a in read_catalog(api_client.get("/v1/store/catalog"))["apps"]] == [
        other.package_id
    ]
    counts = {c["slug"]: c["app_count"] for c in api_client.get("/v1/store/categories").json()["categories"]}
    assert (counts[app.category.slug], counts[other.category.slug]) == (0, 1)


def test_cached_reads_follow_a_review(api_client, changed):
    app = make_published_app()
    assert api_client.get(f"/v1/store/apps/{app.package_id}").json()["rating_count"] == 0
    Review.objects.create(app=app, user=UserFactory(), rating=5)
    changed(app, "review")
    body = api_client.get(f"/v1/store/apps/{app.package_id}").json()
    assert body["rating_count"] == 1 and body["ratings"] == [0, 0, 0, 0, 1]


def test_cache_stats_count_entries_hits_and_misses(api_client, staff_client):
    app = make_published_app()
    api_client.get("/v1/store/apps")
    api_client.get("/v1/store/apps")
    # The default listing is the row's stored document (no cache entry); by Mosis version it is cached.
    api_client.get(f"/v1/store/apps/{app.package_id}")
    api_client.get(f"/v1/store/apps/{app.package_id}?mosis_version=1.5")
    api_client.get(f"/v1/store/apps/{app.package_id}/versions")
    stats = staff_client.get("/v1/cache/stats").json()
    assert (stats["metadata_entries"], stats["version_entries"]) == (1, 1)
    assert stats["list_entries"] >= 1 and stats["hits"] >= 1 and stats["misses"] >= 3
    assert stats["total_entries"] == stats["list_entries"] + 2
    # The catalog document is kept apart (store.catalog.services.document), not as a generation-keyed entry.
    api_client.get("/v1/store/catalog")
    assert staff_client.get("/v1/cache/stats").json() == stats


def test_cache_stats_entries_drop_when_an_app_changes(api_client, staff_client, changed):
    app = make_published_app()
    other = make_published_app()
    api_client.get("/v1/store/apps")
    api_client.get(f"/v1/store/apps/{app.package_id}?mosis_version=1.5")
    api_client.get(f"/v1/store/apps/{other.package_id}?mosis_version=1.5")
    changed(app, "metadata")
    stats = staff_client.get("/v1/cache/stats").json()
    assert (stats["list_entries"], stats["metadata_entries"]) == (0, 1)


def test_one_apps_change_leaves_other_apps_documents_cached(api_client, staff_client, changed):
    """A publish or a review of one app bumps its own generation and the list pages', not its neighbours':
    their listings, versions lists and download targets stay cached (hits), while its own are rebuilt."""
    app, other = make_published_app(), make_published_app()
    paths = ["/v1/store/apps/{}?mosis_version=1.5", "/v1/store/apps/{}/versions"]
    for package_id in (app.package_id, other.package_id):
        for path in paths:
            api_client.get(path.format(package_id))
    before = staff_client.get("/v1/cache/stats").json()
    Review.objects.create(app=app, user=UserFactory(), rating=4)
    changed(app, "review")
    for path in paths:
        assert api_client.get(path.format(other.package_id)).status_code == 200
    after = staff_client.get("/v1/cache/stats").json()
    assert (after["hits"] - before["hits"], after["misses"] - before["misses"]) == (2, 0)
    assert (after["metadata_entries"], after["version_entries"]) == (1, 1)  # the reviewed app's are gone
    assert api_client.get(f"/v1/store/apps/{app.package_id}?mosis_version=1.5").json()["rating_count"] == 1
    assert staff_client.get("/v1/cache/stats").json()["misses"] == after["misses"] + 1


def test_cache_stats_needs_staff_or_metrics_token(api_client, auth_client, settings):
    assert api_client.get("/v1/cache/stats").status_code == 401
    response = auth_client.get("/v1/cache/stats")
    assert response.status_code == 403 and response.json()["error"]["code"] == "FORBIDDEN"
    settings.METRICS_TOKEN = "metrics-secret-123"
    api_client.credentials(HTTP_AUTHORIZATION="Bearer metrics-secret-123")
    assert api_client.get("/v1/cache/stats").status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION="Bearer wrong-token")
    assert api_client.get("/v1/cache/stats").status_code == 401


@pytest.mark.parametrize("path", ["/v1/store/apps", "/v1/store/categories", "/v1/store/apps/{pkg}/versions"])
def test_public_reads_answer_304_from_cache(api_client, django_assert_num_queries, path):
    app = make_published_app()
    url = path.format(pkg=app.package_id)
    first = api_client.get(url)
    assert first.status_code == 200 and first["ETag"].startswith('"')
    assert first["Cache-Control"] == "public, max-age=60, stale-while-revalidate=30"
    with django_assert_num_queries(0):
        assert api_client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_invalidating_everything_empties_the_store_cache(api_client, staff_client):
    from store.catalog.services.cache import store_cache_invalidate

    app = make_published_app()
    api_client.get("/v1/store/apps")
    api_client.get(f"/v1/store/apps/{app.package_id}?mosis_version=1.5")
    store_cache_invalidate()
    stats = staff_client.get("/v1/cache/stats").json()
    assert stats["total_entries"] == 0 and stats["misses"] >= 2
    api_client.get("/v1/store/apps")
    assert staff_client.get("/v1/cache/stats").json()["misses"] > stats["misses"]


def test_cached_listing_goes_away_when_the_app_is_deleted(api_client, changed):
    app = make_published_app()
    url = f"/v1/store/apps/{app.package_id}"
    assert api_client.get(url).status_code == 200
    app_id = app.pk
    app.delete()
    app.pk = app_id
    changed(app, "deleted")
    assert api_client.get(url).status_code == 404
    assert api_client.get("/v1/store/apps").json()["total"] == 0
