"""Abuse reports (SPEC §5, seed 001): staff email, distinct-reporter threshold → pending_disable, throttling."""

from datetime import timedelta

import pytest
from django.contrib.admin.sites import site as admin_site
from django.core import mail
from django.test import RequestFactory
from django.utils import timezone

from accounts.models import User
from apps.constants import AppStatus
from apps.models import ActivityEvent
from store.models import AbuseReport, AppListing
from tests.conftest import jwt_client_for
from tests.factories import UserFactory, community_device, community_published_app, established_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(other_user):
    return community_published_app("com.test.shady", owner=other_user)


def report_url(package_id):
    return f"/v1/store/apps/{package_id}/report"


def report(client, app, reason="malware", comment="It mines coins.", **extra):
    return client.post(
        report_url(app.package_id), {"reason": reason, "comment": comment}, format="json", **extra
    )


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run after-commit work (emails, catalog_changed) inside the test transaction."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


@pytest.mark.usefixtures("no_ratelimits")
def test_a_report_is_filed_and_staff_are_emailed(auth_client, app, run_on_commit, settings):
    settings.STAFF_NOTIFY_EMAILS = ["abuse@mosis.dev", "lead@mosis.dev"]
    settings.SITE_NAME = "Acme Apps"
    response = run_on_commit(report, auth_client, app)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reason"] == "malware"
    assert body["package_id"] == app.package_id
    assert AbuseReport.objects.filter(pk=body["id"], app=app).exists()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["abuse@mosis.dev", "lead@mosis.dev"]
    assert message.subject.startswith("[Acme Apps] Abuse report") and app.package_id in message.subject
    assert "It mines coins." in message.body
    app.refresh_from_db()
    assert app.status == AppStatus.PUBLISHED  # one report is below the threshold


@pytest.mark.usefixtures("no_ratelimits")
@pytest.mark.parametrize(
    "payload, field",
    [
        ({"reason": "ugly"}, "reason"),
        ({}, "reason"),
        ({"reason": "spam", "comment": "x" * 5001}, "comment"),
    ],
)
def test_invalid_reports_are_refused(auth_client, app, payload, field):
    response = auth_client.post(report_url(app.package_id), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


@pytest.mark.usefixtures("no_ratelimits")
def test_reporting_needs_a_user_and_not_the_developer(api_client, other_client, app):
    assert report(api_client, app).status_code == 401
    _, token = community_device()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert report(api_client, app).status_code == 403
    assert report(other_client, app).status_code == 403
    assert (
        report(jwt_client_for(UserFactory()), community_published_app(status=AppStatus.DRAFT)).status_code
        == 404
    )


@pytest.mark.usefixtures("no_ratelimits")
def test_the_threshold_of_distinct_users_hides_the_app(app, run_on_commit, settings):
    settings.ABUSE_HIDE_THRESHOLD = 3
    assert AppListing.objects.get(app=app).listed
    first, second, third = (jwt_client_for(established_user()) for _ in range(3))
    run_on_commit(report, first, app)
    run_on_commit(report, second, app, reason="spam")
    app.refresh_from_db()
    assert app.status == AppStatus.PUBLISHED
    run_on_commit(report, third, app, reason="broken")
    app.refresh_from_db()
    assert app.status == AppStatus.PENDING_DISABLE
    assert not AppListing.objects.get(app=app).listed
    assert ActivityEvent.objects.filter(app=app, type="app.status_changed").exists()
    assert len(mail.outbox) >= 3  # one per report
    to_owner = [m for m in mail.outbox if m.to == [app.owner.email]]
    assert len(to_owner) == 1 and "pending_disable" in to_owner[0].subject  # the developer is told


@pytest.mark.usefixtures("no_ratelimits")
def test_a_repeat_by_the_same_user_updates_their_report_and_counts_once(
    app, auth_client, run_on_commit, settings
):
    settings.ABUSE_HIDE_THRESHOLD = 2
    first = run_on_commit(report, auth_client, app, reason="spam", comment="first")
    again = run_on_commit(report, auth_client, app, reason="malware", comment="worse")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    stored = AbuseReport.objects.get()
    assert (stored.reason, stored.comment) == ("malware", "worse")
    assert len(mail.outbox) == 1  # the update does not email again
    app.refresh_from_db()
    assert app.status == AppStatus.PUBLISHED


@pytest.mark.usefixtures("no_ratelimits")
def test_a_staff_report_is_enough(app, staff_client, run_on_commit):
    assert run_on_commit(report, staff_client, app).status_code == 201
    app.refresh_from_db()
    assert app.status == AppStatus.PENDING_DISABLE


@pytest.mark.usefixtures("no_ratelimits")
def test_resolved_reports_stop_counting(app, run_on_commit, settings, staff_user):
    settings.ABUSE_HIDE_THRESHOLD = 2
    run_on_commit(report, jwt_client_for(established_user()), app)
    admin = admin_site.get_model_admin(AbuseReport)
    admin.message_user = lambda *args, **kwargs: None
    request = RequestFactory().post("/admin/store/abusereport/")
    request.user = staff_user
    admin.mark_resolved(request, AbuseReport.objects.all())
    run_on_commit(report, jwt_client_for(established_user()), app)
    app.refresh_from_db()
    assert app.status == AppStatus.PUBLISHED


@pytest.mark.usefixtures("no_ratelimits")
def test_staff_decide_on_reported_apps_from_the_admin(app, staff_client, staff_user, run_on_commit):
    run_on_commit(report, staff_client, app)
    admin = admin_site.get_model_admin(AbuseReport)
    admin.message_user = lambda *args, **kwargs: None
    request = RequestFactory().post("/admin/store/abusereport/")
    request.user = staff_user
    with_reports = AbuseReport.objects.filter(app=app)
    run_on_commit(admin.disable_apps, request, with_reports)
    app.refresh_from_db()
    assert app.status == AppStatus.DISABLED
    run_on_commit(admin.restore_apps, request, with_reports)
    app.refresh_from_db()
    assert app.status == AppStatus.PUBLISHED
    assert AppListing.objects.get(app=app).listed
    assert not AbuseReport.objects.filter(resolved_at__isnull=True).exists()


def test_reports_are_capped_per_ip_address(settings, app):
    settings.ABUSE_REPORT_IP_RATE = "2/h"
    clients = [jwt_client_for(UserFactory()) for _ in range(3)]
    assert report(clients[0], app).status_code == 201
    assert report(clients[1], app).status_code == 201
    refused = report(clients[2], app)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert refused["Retry-After"]
    # Another address is not affected.
    assert report(clients[2], app, REMOTE_ADDR="10.9.8.7").status_code == 201


def test_the_admin_lists_reports_per_app(admin_client, app):
    AbuseReport.objects.create(app=app, reporter=UserFactory(), reason="spam")
    response = admin_client.get(f"/admin/store/abusereport/?app__id__exact={app.pk}")
    assert response.status_code == 200
    assert app.package_id in response.content.decode()


@pytest.mark.usefixtures("no_ratelimits")
def test_after_a_day_the_same_user_files_a_new_report_that_still_counts_once(app, auth_client, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.ABUSE_HIDE_THRESHOLD = 2
    first = report(auth_client, app)
    AbuseReport.objects.filter(pk=first.json()["id"]).update(created_at=timezone.now() - timedelta(hours=25))
    again = report(auth_client, app, reason="spam")
    assert again.status_code == 201
    assert AbuseReport.objects.filter(app=app).count() == 2
    app.refresh_from_db()
    assert app.status == AppStatus.PUBLISHED  # one distinct reporter


@pytest.mark.usefixtures("no_ratelimits")
def test_three_accounts_made_a_minute_ago_cannot_hide_an_app(app, run_on_commit, settings):
    """Issue "Trust" §3: three fresh accounts from one address used to hide any app. Their reports still
    reach staff, but only established accounts (verified email, ABUSE_REPORTER_MIN_AGE_DAYS old) count."""
    settings.ABUSE_HIDE_THRESHOLD, settings.ABUSE_REPORTER_MIN_AGE_DAYS = 3, 3
    for _ in range(3):
        fresh = established_user(days_old=0)  # verified, but made today
        assert run_on_commit(report, jwt_client_for(fresh), app).status_code == 201
    for _ in range(3):
        unverified = UserFactory()  # old enough, but its email was never verified
        User.objects.filter(pk=unverified.pk).update(created_at=timezone.now() - timedelta(days=30))
        assert run_on_commit(report, jwt_client_for(unverified), app).status_code == 201
    app.refresh_from_db()
    assert app.status == AppStatus.PUBLISHED
    assert len(mail.outbox) == 6  # staff heard about every one
    assert "0 from established accounts" in mail.outbox[-1].body
    for _ in range(3):
        run_on_commit(report, jwt_client_for(established_user(days_old=3)), app)
    app.refresh_from_db()
    assert app.status == AppStatus.PENDING_DISABLE


@pytest.mark.usefixtures("no_ratelimits")
def test_the_age_rule_can_be_turned_off(app, run_on_commit, settings):
    settings.ABUSE_HIDE_THRESHOLD, settings.ABUSE_REPORTER_MIN_AGE_DAYS = 2, 0
    for _ in range(2):
        run_on_commit(report, jwt_client_for(established_user(days_old=0)), app)
    app.refresh_from_db()
    assert app.status == AppStatus.PENDING_DISABLE


@pytest.mark.usefixtures("no_ratelimits")
def test_one_reporter_files_at_most_the_daily_cap_of_new_reports(run_on_commit, settings):
    settings.ABUSE_REPORTS_PER_USER_DAY = 3
    reporter = jwt_client_for(established_user())
    apps = [community_published_app(f"com.test.target{i}") for i in range(4)]
    for target in apps[:3]:
        assert run_on_commit(report, reporter, target).status_code == 201
    assert run_on_commit(report, reporter, apps[0], reason="spam").status_code == 200  # an update is free
    refused = run_on_commit(report, reporter, apps[3])
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "RATE_LIMITED" and refused["Retry-After"]
    assert AbuseReport.objects.count() == 3
