"""The apps back office (SPEC §8): state changes through admin actions, max Mosis version, read-only history."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.test import Client

from apps.constants import AppStatus
from apps.models import ActivityEvent
from apps.services import activity_record
from tests.factories import AppFactory, AppVersionFactory, CategoryFactory, UserFactory
from versions.constants import VersionStatus
from versions.models import AppVersion
from versions.services import review_comment_add

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/apps/app/"


@pytest.fixture
def staff_browser(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


def run_action(client, action, apps, reason="", apply=True):
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(a.pk) for a in apps]}
    if apply:
        data.update({"apply": "1", "reason": reason})
    return client.post(CHANGELIST, data, follow=apply)


def test_non_staff_cannot_reach_the_admin(user):
    client = Client()
    client.force_login(user)
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    anonymous = Client().get(CHANGELIST)
    assert anonymous.status_code == 302


def test_changelist_search_and_filters(staff_browser):
    AppFactory(package_id="com.example.findme", status=AppStatus.PUBLISHED)
    AppFactory(package_id="com.example.other")
    response = staff_browser.get(CHANGELIST, {"q": "findme"})
    assert response.status_code == 200
    assert b"com.example.findme" in response.content
    assert b"com.example.other" not in response.content
    response = staff_browser.get(CHANGELIST, {"status__exact": "published"})
    assert b"com.example.findme" in response.content
    assert b"com.example.other" not in response.content


def test_action_asks_for_a_reason_first(staff_browser):
    app = AppFactory(status=AppStatus.PUBLISHED)
    response = run_action(staff_browser, "set_status_suspended", [app], apply=False)
    assert response.status_code == 200
    assert b"reason" in response.content
    app.refresh_from_db()
    assert app.status == AppStatus.PUBLISHED


def test_suspend_action_changes_status_records_the_staff_user_and_emails_owner(
    staff_browser, staff_user, django_capture_on_commit_callbacks
):
    app = AppFactory(status=AppStatus.PUBLISHED)
    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(staff_browser, "set_status_suspended", [app], reason="spam")
    assert response.status_code == 200
    app.refresh_from_db()
    assert app.status == AppStatus.SUSPENDED
    event = ActivityEvent.objects.get(app=app, type="app.status_changed")
    assert event.actor == staff_user
    assert event.data["reason"] == "spam"
    assert [m.to for m in mail.outbox] == [[app.owner.email]]


def test_action_reports_per_app_errors_and_changes_the_others(staff_browser):
    draft = AppFactory(package_id="com.example.draft")
    published = AppFactory(status=AppStatus.PUBLISHED)
    response = run_action(staff_browser, "set_status_disabled", [draft, published])
    text = response.content.decode()
    assert "com.example.draft" in text and "current state is &#x27;draft&#x27;" in text
    draft.refresh_from_db()
    published.refresh_from_db()
    assert draft.status == AppStatus.DRAFT
    assert published.status == AppStatus.DISABLED


@pytest.mark.parametrize(
    "action,start,end",
    [
        ("set_status_published", AppStatus.UNLISTED, AppStatus.PUBLISHED),
        ("set_status_unlisted", AppStatus.PUBLISHED, AppStatus.UNLISTED),
        ("set_status_pending_disable", AppStatus.PUBLISHED, AppStatus.PENDING_DISABLE),
        ("set_status_disabled", AppStatus.SUSPENDED, AppStatus.DISABLED),
        ("restore_to_published", AppStatus.DISABLED, AppStatus.PUBLISHED),
        ("restore_to_published", AppStatus.UNLISTED, AppStatus.UNLISTED),  # not hidden: skipped
    ],
)
def test_each_status_action(staff_browser, action, start, end):
    app = AppFactory(status=start)
    run_action(staff_browser, action, [app])
    app.refresh_from_db()
    assert app.status == end


def test_change_page_shows_history_versions_and_reports_and_sets_max_mosis_version(staff_browser, staff_user):
    from store.models import AbuseReport

    app = AppFactory(category=CategoryFactory(), status=AppStatus.PUBLISHED)
    AppVersion.objects.create(app=app, version_name="2.4.6", version_code=7, status="published")
    AbuseReport.objects.create(app=app, reporter=staff_user, reason="spam", comment="junk mail app")
    activity_record(type="app.marker_event", app=app)
    url = f"/admin/apps/app/{app.pk}/change/"
    page = staff_browser.get(url)
    assert page.status_code == 200
    content = page.content.decode()
    assert "2.4.6" in content and "junk mail app" in content and "app.marker_event" in content

    form = {
        "name": app.name,
        "type": app.type,
        "category": app.category_id,
        "tags": '["tools"]',
        "max_mosis_version_override": "2.9",
        "description": app.description,
        "long_description": "",
        "icon_url": "",
        "homepage_url": "",
        "support_url": "",
        "screenshots": "[]",
        "status": "disabled",  # read-only in the form: ignored
    }
    for prefix in ("versions", "abuse_reports", "review_comments", "events"):  # the read-only inlines
        form.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    response = staff_browser.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    app.refresh_from_db()
    assert app.max_mosis_version_override == "2.9"
    assert app.status == AppStatus.PUBLISHED
    assert ActivityEvent.objects.filter(
        app=app, type="app.max_mosis_version_changed", actor=staff_user
    ).exists()

    bad = staff_browser.post(url, {**form, "max_mosis_version_override": "two"})
    assert bad.status_code == 200  # form redisplayed with the error
    app.refresh_from_db()
    assert app.max_mosis_version_override == "2.9"


def test_activity_events_are_read_only_in_admin(staff_browser):
    event = activity_record(type="app.updated", app=AppFactory())
    assert staff_browser.get("/admin/apps/activityevent/").status_code == 200
    assert staff_browser.get(f"/admin/apps/activityevent/{event.pk}/change/").status_code == 200
    assert (
        staff_browser.post(f"/admin/apps/activityevent/{event.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert staff_browser.get("/admin/apps/activityevent/add/").status_code == 403


def test_category_admin_lists_categories(staff_browser):
    CategoryFactory(name="Productivity")
    response = staff_browser.get("/admin/apps/category/")
    assert response.status_code == 200
    assert b"Productivity" in response.content


# --- one history, in words ---------------------------------------------------------------------------------
def test_history_button_shows_a_suspend_and_a_restore(staff_browser, staff_user):
    """Defect: the admin's History said an app had no history right after a suspend and a restore."""
    app = AppFactory(status=AppStatus.PUBLISHED, package_id="com.example.history")
    run_action(staff_browser, "set_status_suspended", [app], reason="Spam reports")
    run_action(staff_browser, "restore_to_published", [app], reason="Cleared")
    page = staff_browser.get(f"/admin/apps/app/{app.pk}/history/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "doesn’t have a change history" not in content
    assert f"app status: published → suspended by {staff_user.email}" in content
    assert "reason: “Spam reports”" in content
    assert f"app status: suspended → published by {staff_user.email}" in content
    assert content.index("suspended → published") < content.index("published → suspended")  # newest first
    assert "History of com.example.history" in content


def test_history_is_paginated(staff_browser):
    app = AppFactory()
    for n in range(105):
        activity_record(type="app.updated", app=app, data={"fields": [f"f{n}"]})
    first = staff_browser.get(f"/admin/apps/app/{app.pk}/history/").content.decode()
    assert first.count("listing edited") == 100 and "page 1 of 2" in first
    second = staff_browser.get(f"/admin/apps/app/{app.pk}/history/", {"p": 2}).content.decode()
    assert second.count("listing edited") == 5


def test_activity_details_are_sentences_not_dicts(staff_browser, staff_user):
    """Defect: activity details were shown as raw Python dicts."""
    app = AppFactory(status=AppStatus.PUBLISHED)
    run_action(staff_browser, "set_status_suspended", [app], reason="spam")
    event = ActivityEvent.objects.get(app=app, type="app.status_changed")
    for url in (
        f"/admin/apps/app/{app.pk}/change/",
        "/admin/apps/activityevent/",
        f"/admin/apps/activityevent/{event.pk}/change/",
    ):
        content = staff_browser.get(url).content.decode()
        assert f"app status: published → suspended by {staff_user.email}" in content, url
        assert "{&quot;from&quot;" not in content and "{&#x27;from&#x27;" not in content, url
    raw = staff_browser.get(f"/admin/apps/activityevent/{event.pk}/change/").content.decode()
    assert "&quot;from&quot;: &quot;published&quot;" in raw  # the data stays readable as JSON


def test_delete_selected_apps_is_not_offered(staff_browser):
    """Defect: "Delete selected apps" was offered and then always refused."""
    app = AppFactory()
    content = staff_browser.get(CHANGELIST).content.decode()
    assert "delete_selected" not in content
    assert staff_browser.get(f"/admin/apps/app/{app.pk}/delete/").status_code == 403
    assert 'class="deletelink"' not in staff_browser.get(f"/admin/apps/app/{app.pk}/change/").content.decode()


def test_app_page_shows_reviewers_comments(staff_browser, user):
    version = AppVersionFactory(app=AppFactory(owner=user), status=VersionStatus.REVIEW)
    review_comment_add(version=version, author=UserFactory(is_staff=True), body="Watch the ads SDK.")
    content = staff_browser.get(f"/admin/apps/app/{version.app_id}/change/").content.decode()
    assert "Watch the ads SDK." in content
    assert "never sent to the developer" in content


@pytest.mark.parametrize("count", [1, 20])
def test_app_page_query_count_does_not_grow(staff_browser, count, django_assert_max_num_queries):
    app = AppFactory(status=AppStatus.PUBLISHED)
    for n in range(count):
        version = AppVersion.objects.create(app=app, version_name=f"1.{n}.0", version_code=n + 1)
        activity_record(type="version.created", app=app, version=version, data={"version_code": n + 1})
    with django_assert_max_num_queries(30):
        response = staff_browser.get(f"/admin/apps/app/{app.pk}/change/")
    assert response.status_code == 200


@pytest.mark.parametrize("count", [1, 40])
def test_history_view_query_count_does_not_grow(
    staff_browser, staff_user, count, django_assert_max_num_queries
):
    app = AppFactory()
    for n in range(count):
        version = AppVersion.objects.create(app=app, version_name=f"1.{n}.0", version_code=n + 1)
        activity_record(
            type="version.created", app=app, version=version, actor=staff_user, data={"version_code": n}
        )
    with django_assert_max_num_queries(8):
        response = staff_browser.get(f"/admin/apps/app/{app.pk}/history/")
    assert response.content.decode().count("created by") == count
