"""The review console's telemetry views (issue 14): crash groups per app and the daily rollups, read-only."""

import pytest
from django.test import Client

from telemetry.models import AppDailyStats, CrashGroup
from telemetry.services import crash_report_submit
from telemetry.services.partitions import utc_today
from tests.factories import AppFactory, community_device

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_browser(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def crashes(app):
    device, _ = community_device()
    other = AppFactory(package_id="com.example.other")
    for crash_type, target in (("NullPointer", app), ("Timeout", app), ("OutOfMemory", other)):
        crash_report_submit(
            app_id=target.pk, app_version="1.0.0", crash_type=crash_type, message="m", device=device
        )
    return app


def test_crash_groups_are_listed_per_app_and_read_only(staff_browser, crashes):
    page = staff_browser.get("/admin/telemetry/crashgroup/", {"q": "com.example.tracked"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "NullPointer" in html and "Timeout" in html and "OutOfMemory" not in html
    by_app = staff_browser.get("/admin/telemetry/crashgroup/", {"app__id__exact": str(crashes.pk)})
    assert by_app.context["cl"].result_count == 2
    group = CrashGroup.objects.get(crash_type="NullPointer")
    detail = staff_browser.get(f"/admin/telemetry/crashgroup/{group.pk}/change/")
    assert detail.status_code == 200
    assert "Counts per app version" in detail.content.decode()
    assert "Most recent reports" in detail.content.decode()
    assert staff_browser.get("/admin/telemetry/crashgroup/add/").status_code == 403
    assert (
        staff_browser.post(f"/admin/telemetry/crashgroup/{group.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert CrashGroup.objects.count() == 3


def test_the_rollups_are_listed(staff_browser, app):
    AppDailyStats.objects.create(app=app, day=utc_today(), downloads=3, active_users=2, crashes=1)
    page = staff_browser.get("/admin/telemetry/appdailystats/")
    assert page.status_code == 200
    assert "com.example.tracked" in page.content.decode()
    assert staff_browser.get("/admin/telemetry/appdailystats/add/").status_code == 403


def test_the_crash_group_list_costs_the_same_for_few_and_many(
    staff_browser, crashes, django_assert_max_num_queries
):
    staff_browser.get("/admin/telemetry/crashgroup/")
    with django_assert_max_num_queries(12) as few:
        staff_browser.get("/admin/telemetry/crashgroup/")
    queries = len(few.captured_queries)
    device, _ = community_device()
    for n in range(20):
        crash_report_submit(app_id=crashes.pk, app_version="1.0.0", crash_type=f"E{n}", device=device)
    with django_assert_max_num_queries(queries):
        staff_browser.get("/admin/telemetry/crashgroup/")
