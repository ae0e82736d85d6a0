"""The AppListing read model: listed flag, latest version, ratings and the catalog_changed receiver."""

import pytest

from apps.constants import AppStatus
from mosis.core.errors import ApplicationError
from mosis.core.signals import send_catalog_changed
from store.catalog.selectors import latest_compatible_version, listed_app_for_package
from store.catalog.services.listing import bayesian_rating, listing_refresh, listing_refresh_ratings
from store.models import AppListing, Review
from tests.factories import UserFactory
from versions.constants import VersionStatus

from .conftest import make_published_app, make_version

pytestmark = pytest.mark.django_db


def test_listing_refresh_lists_published_app_with_newest_non_yanked_version():
    app = make_published_app(versions=2)
    make_version(app, code=3, yanked=True)
    make_version(app, code=4, status=VersionStatus.APPROVED)
    listing = listing_refresh(app_id=app.pk)
    assert listing.listed is True
    assert listing.latest_version.version_code == 2
    assert listing.package_id == app.package_id
    assert listing.author_name == app.owner.name


@pytest.mark.parametrize(
    "status", [AppStatus.UNLISTED, AppStatus.PENDING_DISABLE, AppStatus.SUSPENDED, AppStatus.DISABLED]
)
def test_hidden_statuses_are_not_listed(status):
    app = make_published_app(status=status)
    assert AppListing.objects.get(app=app).listed is False


def test_app_without_published_version_is_not_listed():
    app = make_published_app(versions=0)
    make_version(app, code=1, yanked=True)
    assert listing_refresh(app_id=app.pk).listed is False


def test_listing_refresh_of_deleted_app_removes_row():
    app = make_published_app()
    app_id = app.pk
    AppListing.objects.filter(app_id=app_id).delete()
    app.delete()
    assert listing_refresh(app_id=app_id) is None


def test_bayesian_rating_one_five_star_does_not_beat_many_high_ratings():
    assert bayesian_rating(rating_sum=5, rating_count=1) < bayesian_rating(rating_sum=480, rating_count=100)


def test_listing_refresh_ratings_counts_visible_reviews_only():
    app = make_published_app()
    for rating, hidden in [(5, False), (4, False), (4, False), (1, True)]:
        Review.objects.create(app=app, user=UserFactory(), rating=rating, hidden=hidden)
    listing = listing_refresh_ratings(app_id=app.pk)
    assert (listing.rating_count, listing.rating_sum) == (3, 13)
    assert [
        listing.ratings_1,
        listing.ratings_2,
        listing.ratings_3,
        listing.ratings_4,
        listing.ratings_5,
    ] == [
        0,
        0,
        0,
        2,
        1,
    ]
    assert listing.rating_score == pytest.approx(bayesian_rating(rating_sum=13, rating_count=3))


def test_catalog_changed_refreshes_listing(django_capture_on_commit_callbacks):
    app = make_published_app(status=AppStatus.PUBLISHED)
    app.status = AppStatus.SUSPENDED
    app.save(update_fields=["status"])
    with django_capture_on_commit_callbacks(execute=True):
        send_catalog_changed(app_id=app.pk, reason="status")
    assert AppListing.objects.get(app=app).listed is False


def test_latest_compatible_version_honours_ranges_and_cap():
    app = make_published_app(versions=0)
    make_version(app, code=1, min_mosis="1.0", max_mosis="1.9")
    make_version(app, code=2, min_mosis="2.0")
    make_version(app, code=3, min_mosis="2.0", yanked=True)
    assert latest_compatible_version(app=app, mosis_version="1.5").version_code == 1
    assert latest_compatible_version(app=app, mosis_version="2.4").version_code == 2
    assert latest_compatible_version(app=app, mosis_version=None).version_code == 2
    assert latest_compatible_version(app=app, mosis_version="0.9") is None
    app.max_mosis_version_override = "2.1"
    assert latest_compatible_version(app=app, mosis_version="2.4") is None


def test_listed_app_for_package_reaches_published_and_unlisted_only():
    published = make_published_app()
    unlisted = make_published_app(status=AppStatus.UNLISTED)
    disabled = make_published_app(status=AppStatus.DISABLED)
    assert listed_app_for_package(published.package_id) == published
    assert listed_app_for_package(unlisted.package_id) == unlisted
    with pytest.raises(ApplicationError):
        listed_app_for_package(disabled.package_id)


def test_listing_refresh_stores_the_sanitized_long_description_html(api_client, monkeypatch):
    app = make_published_app()
    type(app).objects.filter(pk=app.pk).update(long_description="# Hi\n\n<script>x()</script>**bold**")
    listing = listing_refresh(app_id=app.pk)
    assert (
        "<h1>Hi</h1>" in listing.long_description_html
        and "<strong>bold</strong>" in listing.long_description_html
    )
    assert "<script" not in listing.long_description_html

    import store.catalog.serializers as serializers_catalog

    def no_rendering(text):
        raise AssertionError("the listing read rendered Markdown")

    monkeypatch.setattr(serializers_catalog, "render_long_description", no_rendering)
    body = api_client.get(f"/v1/store/apps/{app.package_id}").json()
    assert body["long_description_html"] == listing.long_description_html


def test_listing_rows_without_stored_html_are_rendered_on_read(api_client):
    """Rows from before 0004/0006 (nothing rendered) are rendered by the first read, then stored."""
    app = make_published_app()
    type(app).objects.filter(pk=app.pk).update(long_description="*hi*")
    AppListing.objects.filter(app=app).update(long_description_html=None, listing_document=None)
    assert (
        api_client.get(f"/v1/store/apps/{app.package_id}").json()["long_description_html"]
        == "<p><em>hi</em></p>"
    )
    stored = AppListing.objects.get(app=app)
    assert stored.long_description_html == "<p><em>hi</em></p>" and stored.listing_document is not None


@pytest.mark.django_db
def test_migration_backfills_rendered_html_of_listings_that_predate_it():
    import importlib

    from django.apps import apps as django_apps

    app = make_published_app(long_description="# Title\n\n<script>alert(1)</script> **bold**")
    AppListing.objects.filter(app=app).update(long_description_html=None)  # as rows were before 0004

    importlib.import_module("store.migrations.0005_backfill_listing_rendered_html").backfill(
        django_apps, None
    )

    html = AppListing.objects.get(app=app).long_description_html
    assert "<strong>bold</strong>" in html and "<script>" not in html


def test_renaming_the_owner_shows_the_new_name_in_listing_list_and_catalog_rows(
    api_client, django_capture_on_commit_callbacks
):
    app = make_published_app()
    owner = app.owner
    url = f"/v1/store/apps/{app.package_id}"
    assert api_client.get(url).json()["author_name"] == owner.name  # rendered and cached
    assert api_client.get("/v1/store/apps").json()["apps"][0]["author_name"] == owner.name

    owner.name = "Renamed Studio"
    with django_capture_on_commit_callbacks(execute=True):
        owner.save()

    listing = AppListing.objects.get(app=app)
    assert listing.author_name == "Renamed Studio"
    assert listing.listing_document is None  # rendered again on the next read
    assert api_client.get(url).json()["author_name"] == "Renamed Studio"
    assert api_client.get("/v1/store/apps").json()["apps"][0]["author_name"] == "Renamed Studio"
    assert AppListing.objects.get(app=app).listing_document  # stored again by that read


def test_saving_an_owner_without_a_name_change_touches_no_listing(
    django_assert_num_queries, django_capture_on_commit_callbacks
):
    app = make_published_app()
    other = make_published_app()
    owner = app.owner
    document = AppListing.objects.get(app=app).listing_document
    with django_assert_num_queries(1):  # the user's own UPDATE: a sign-in's last_login save
        owner.save(update_fields=["last_login"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        owner.save()  # same name: one lookup, nothing updated
    assert callbacks == []
    assert AppListing.objects.get(app=app).listing_document == document
    assert AppListing.objects.get(app=other).author_name == other.owner.name


def test_renaming_an_owner_of_many_apps_invalidates_the_store_cache_once(
    django_capture_on_commit_callbacks, monkeypatch
):
    from store import signals

    monkeypatch.setattr(signals, "_RENAME_PER_APP_LIMIT", 1)
    first = make_published_app()
    owner = first.owner
    second = make_published_app(owner=owner)
    calls = []
    monkeypatch.setattr(signals, "store_cache_invalidate", lambda **kwargs: calls.append(kwargs))
    owner.name = "Many Apps Ltd"
    with django_capture_on_commit_callbacks(execute=True):
        owner.save()
    assert calls == [{}]  # everything once, not once per app
    names = AppListing.objects.filter(app__in=[first, second]).values_list("author_name", flat=True)
    assert set(names) == {"Many Apps Ltd"}
