"""No N+1 on any page: each portal and store page costs the same number of queries for 1 item and for many
(STYLE §6), pinned here so a template that starts reading a relation per row fails."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.services import api_key_create
from apps.constants import AppStatus
from apps.models import WebhookAttempt
from apps.services import activity_record, app_set_status
from apps.webhooks.services import webhook_create, webhook_ping
from store.catalog.services.listing import listing_refresh, listing_refresh_ratings
from store.community.services.reviews import review_upsert
from telemetry.services import crash_report_submit
from tests.factories import AppVersionFactory, CategoryFactory, UserFactory
from tests.portal.conftest import make_app
from tests.store.conftest import make_version as make_store_version
from tests.versions.pipeline import register_signing_key
from versions.constants import VersionStatus

pytestmark = pytest.mark.django_db


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


def same_for_one_and_many(client, url_for, grow, *, most: int) -> None:
    """The page's query count for one item equals the count for many, and stays within ``most``."""
    url = url_for()
    one = queries(client, url)
    grow()
    many = queries(client, url_for())
    assert one == many, f"{url}: {one} queries for one item, {many} for many"
    assert many <= most, f"{url}: {many} queries (pinned at {most})"


@pytest.fixture(autouse=True)
def _room_for_many(settings):
    """These tests grow one developer to dozens of apps and keys: past the daily and active caps."""
    settings.MAX_NEW_APPS_PER_DAY = 1000
    settings.MAX_ACTIVE_API_KEYS_PER_USER = 1000


def test_dashboard(browser, user):
    states = [s for s in VersionStatus.values]
    AppVersionFactory(app=make_app(user, package_id="com.example.first"), version_code=1)

    def grow():
        for i in range(30):
            app = make_app(user, package_id=f"com.example.app{i}")
            AppVersionFactory(app=app, status=states[i % len(states)], version_code=1)
            AppVersionFactory(app=app, status=VersionStatus.REVIEW, version_code=2)

    same_for_one_and_many(browser, lambda: reverse("portal:dashboard"), grow, most=9)


def test_app_page(browser, user):
    app = make_app(user)
    AppVersionFactory(app=app, version_code=1)

    def grow():
        for code in range(2, 40):
            version = AppVersionFactory(app=app, version_code=code)
            activity_record(type="version.created", version=version, actor=user)

    same_for_one_and_many(browser, lambda: reverse("portal:app", args=[app.pk]), grow, most=9)


def test_version_page(browser, user):
    app = make_app(user)
    version = AppVersionFactory(app=app, version_code=50, status=VersionStatus.DRAFT)

    def grow():
        for code in range(1, 20):
            AppVersionFactory(app=app, version_code=code, status=VersionStatus.PUBLISHED)
        for i in range(20):
            activity_record(type="version.validated", version=version, actor=user if i % 2 else UserFactory())

    same_for_one_and_many(browser, lambda: reverse("portal:version", args=[app.pk, version.pk]), grow, most=9)


def test_keys_pages(browser, user):
    api_key_create(user=user, name="one", scopes=["apps:read"])
    register_signing_key(user, name="one")

    def grow():
        for i in range(30):
            api_key_create(user=user, name=f"k{i}", scopes=["apps:read", "apps:write"])
            register_signing_key(user, name=f"s{i}", revoked=bool(i % 2))

    same_for_one_and_many(browser, lambda: reverse("portal:api-keys"), grow, most=5)
    same_for_one_and_many(browser, lambda: reverse("portal:signing-keys"), lambda: None, most=5)


def _listed(owner, package_id, category):
    app = make_app(
        owner, package_id=package_id, category=category, name=package_id.rsplit(".", 1)[-1].title()
    )
    make_store_version(app, code=1)
    app_set_status(app=app, to=AppStatus.PUBLISHED, system=True)
    listing_refresh(app_id=app.pk)
    return app


def test_store_pages(client, user):
    category = CategoryFactory(slug="tools", name="Tools")
    CategoryFactory(slug="games", name="Games")
    first = _listed(user, "com.example.first", category)
    review_upsert(app=first, user=UserFactory(), rating=4, title="Good", body="Works.")

    def grow():
        for i in range(30):
            _listed(user, f"com.example.app{i}", category)
        for code in range(2, 20):
            make_store_version(first, code=code)
        listing_refresh(app_id=first.pk)
        for i in range(15):
            review_upsert(app=first, user=UserFactory(), rating=1 + i % 5, title=f"Review {i}", body="Fine.")
        listing_refresh_ratings(app_id=first.pk)

    urls = [
        lambda: reverse("store-home"),
        lambda: reverse("store-home") + "?q=example",
        lambda: reverse("store-page-category", args=["tools"]),
        lambda: reverse("store-page-app", args=[first.package_id]),
        lambda: reverse("store-page-developer", args=[user.pk]),
    ]
    counts = [queries(client, url()) for url in urls]
    grow()
    grown = [queries(client, url()) for url in urls]
    assert counts == grown
    assert max(grown) <= 8, grown


def test_form_pages(browser, user):
    app = make_app(user)
    CategoryFactory(slug="first", name="First")
    register_signing_key(user, name="first")

    def grow():
        for i in range(25):
            CategoryFactory(slug=f"c{i}", name=f"C {i}")
            register_signing_key(user, name=f"k{i}")
            AppVersionFactory(app=app, version_code=i + 1)

    urls = [
        lambda: reverse("portal:app-new"),
        lambda: reverse("portal:app-edit", args=[app.pk]),
        lambda: reverse("portal:app-delete", args=[app.pk]),
        lambda: reverse("portal:version-new", args=[app.pk]),
    ]
    before = [queries(browser, url()) for url in urls]
    grow()
    after = [queries(browser, url()) for url in urls]
    assert before == after
    assert max(after) <= 6, after
    version = AppVersionFactory(app=app, version_code=99)
    assert queries(browser, reverse("portal:version-status", args=[app.pk, version.pk])) <= 4
    assert queries(browser, reverse("portal:guide")) <= 2


def test_analytics_page(browser, user, django_assert_num_queries):
    """One query for the figures whatever the range, a week or a year (session, user, app, figures)."""
    app = make_app(user)
    base = reverse("portal:app-analytics", args=[app.pk])
    for query in (
        "",
        "?start_date=2026-01-01&end_date=2026-01-07",
        "?start_date=2025-01-08&end_date=2026-01-07",
    ):
        with django_assert_num_queries(4):
            assert browser.get(base + query).status_code == 200
    with django_assert_num_queries(3):  # a bad range: no figures read
        assert browser.get(base + "?start_date=2026-01-08&end_date=2026-01-07").status_code == 400


def test_crash_pages(browser, user, django_assert_num_queries):
    """The list: session, user, app, count, the page's groups, their per-version counts. A group: session,
    user, app, the group, its per-version counts, its samples."""
    app = make_app(user)
    first = crash_report_submit(app_id=app.pk, app_version="1.1.0", crash_type="First", owner=user)

    def grow():
        for i in range(30):
            for version in ("1.0.0", "1.1.0", "2.0.0"):
                crash_report_submit(
                    app_id=app.pk, app_version=version, crash_type=f"Type{i}", context={"i": i}, owner=user
                )
        for i in range(15):  # the group's sample ring fills up
            crash_report_submit(app_id=app.pk, app_version=f"1.{i}.0", crash_type="First", owner=user)

    urls = [
        reverse("portal:app-crashes", args=[app.pk]),
        reverse("portal:app-crashes", args=[app.pk]) + "?version=1.1.0",
        reverse("portal:app-crash", args=[app.pk, first.group_id]),
    ]
    for grown in (False, True):
        if grown:
            grow()
        for url in urls:
            with django_assert_num_queries(6):
                assert browser.get(url).status_code == 200


def test_webhook_pages(browser, user, settings, django_assert_num_queries):
    """The list: session, user, count, the page. A webhook: session, user, the webhook, count, the page's
    deliveries, their attempts."""
    webhook, _ = webhook_create(owner=user, url="https://hooks.example.com/1", events=["crash.new"])
    webhook_ping(webhook=webhook, actor=user)

    def grow():
        for i in range(15):
            webhook_create(owner=user, url=f"https://hooks.example.com/more/{i}", events=["crash.new"])
        for _ in range(30):
            delivery = webhook_ping(webhook=webhook, actor=user)
            for number in (1, 2, 3):
                WebhookAttempt.objects.create(
                    delivery=delivery, number=number, started_at=delivery.created_at, status_code=500
                )

    for grown in (False, True):
        if grown:
            grow()
        with django_assert_num_queries(4):
            assert browser.get(reverse("portal:webhooks")).status_code == 200
        with django_assert_num_queries(6):
            assert browser.get(reverse("portal:webhook", args=[webhook.pk])).status_code == 200
