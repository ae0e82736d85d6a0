"""The review console's admin site (mosis.admin_site): branded, the queue first with its counts, the rest
grouped by what reviewers and operators go there for."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.test import Client
from django.utils import timezone

from mosis.admin_site import ReviewConsoleSite, group_app_list
from store.models import AbuseReport
from tests.factories import AppFactory, AppVersionFactory, UserFactory
from versions.constants import VersionStatus
from versions.services import review_claim, review_decide

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


def model(object_name: str, name: str | None = None) -> dict:
    return {"object_name": object_name, "name": name or object_name, "admin_url": f"/admin/x/{object_name}/"}


def test_the_admin_site_is_the_review_console():
    assert isinstance(admin.site, ReviewConsoleSite)
    assert admin.site.site_header == "Mosis review console"


def test_models_are_grouped_by_name_wherever_they_are_registered():
    app_list = [
        {
            "app_label": "apps",
            "models": [model("App"), model("ActivityEvent"), model("Webhook"), model("WebhookDelivery")],
        },
        {"app_label": "telemetry", "models": [model("CrashGroup"), model("DailyRollup")]},
        {
            "app_label": "versions",
            "models": [model("ReviewQueueItem", "Versions in review"), model("AppVersion")],
        },
        {"app_label": "axes", "models": [model("AccessAttempt")]},
        {"app_label": "accounts", "models": [model("User"), model("Device")]},
    ]
    groups = group_app_list(app_list, index_url="/admin/")
    assert [g["name"] for g in groups] == [
        "Review",
        "Catalog",
        "Developers",
        "Devices and telemetry",
        "System",
    ]
    members = {g["name"]: [m["object_name"] for m in g["models"]] for g in groups}
    assert members == {
        "Review": ["ReviewQueueItem"],
        "Catalog": ["App", "AppVersion", "ActivityEvent"],
        "Developers": ["User", "Webhook", "WebhookDelivery"],
        "Devices and telemetry": ["Device", "CrashGroup", "DailyRollup"],
        "System": ["AccessAttempt"],
    }
    assert groups[0]["models"][0]["name"] == "Review queue"
    assert all(g["is_group"] and g["app_url"].startswith("/admin/#group-") for g in groups)
    assert group_app_list([{"app_label": "x", "models": []}], index_url="/admin/") == []  # no empty group


def test_the_index_puts_the_queue_first_with_its_counts(console, staff_user, user):
    colleague = UserFactory(is_staff=True)
    now = timezone.now()
    oldest = AppVersionFactory(status=VersionStatus.REVIEW, submitted_at=now - timedelta(days=2))
    AppVersionFactory(
        status=VersionStatus.REVIEW,
        submitted_at=now,
        permissions=["camera"],
        sensitive_permissions=["camera"],
    )
    reported = AppVersionFactory(status=VersionStatus.REVIEW, submitted_at=now)
    AbuseReport.objects.create(app=reported.app, reporter=user, reason="spam")
    review_claim(version=oldest, reviewer=staff_user)
    review_claim(version=reported, reviewer=colleague)
    decided = AppVersionFactory(app=AppFactory(package_id="com.example.decided"), status=VersionStatus.REVIEW)
    review_decide(version=decided, reviewer=staff_user, decision="approve")

    response = console.get("/admin/")
    content = response.content.decode()
    assert response.status_code == 200
    assert "<title>Review console | Mosis review console</title>" in content
    assert "Mosis review console</a></div>" in content
    assert "<strong>3</strong> versions waiting" in content
    assert "the oldest for 2\xa0days" in content
    assert "1 unclaimed" in content and "1 claimed by you" in content and "1 claimed by others" in content
    assert 'href="/admin/versions/reviewqueueitem/?flag=new_sensitive_permissions"' in content
    assert content.index("queue-panel") < content.index("group-catalog")
    for group in ("group-review", "group-catalog", "group-developers", "group-devices", "group-system"):
        assert f'id="{group}"' in content
    assert (
        content.index('id="group-catalog"')
        < content.index('id="group-developers"')
        < content.index('id="group-system"')
    )
    assert "Your recent decisions" in content and "com.example.decided" in content


@pytest.mark.parametrize("queued", [1, 25])
def test_the_index_query_count_does_not_grow(console, queued, django_assert_max_num_queries):
    for _ in range(queued):
        AppVersionFactory(status=VersionStatus.REVIEW, submitted_at=timezone.now())
    with django_assert_max_num_queries(6):
        assert console.get("/admin/").status_code == 200


def test_an_apps_own_index_page_keeps_its_models(console):
    content = console.get("/admin/versions/").content.decode()
    assert "Versions in review" in content and "Canned responses" in content
    assert "Abuse reports" not in content


def test_non_staff_get_the_login_page(user):
    client = Client()
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    login = Client().get("/admin/login/").content.decode()
    assert "Mosis review console" in login


def test_no_admin_offers_save_on_a_page_with_nothing_to_edit(rf, staff_user):
    """Defect: read-only pages (versions, abuse reports) showed Save buttons: an admin that may change its
    objects must have a field or an inline to change; the others show a view-only page."""
    from django.apps import apps
    from django.contrib.admin.utils import flatten_fieldsets

    request = rf.get("/admin/")
    request.user = staff_user
    offenders = []
    for model_class in apps.get_models():
        if not admin.site.is_registered(model_class):
            continue
        model_admin = admin.site.get_model_admin(model_class)
        if not model_admin.has_change_permission(request):
            continue
        editable = set(flatten_fieldsets(model_admin.get_fieldsets(request))) - set(
            model_admin.get_readonly_fields(request)
        )
        editable_inlines = [
            inline
            for inline in model_admin.get_inline_instances(request)
            if inline.has_change_permission(request) or inline.has_add_permission(request, None)
        ]
        if not editable and not editable_inlines:
            offenders.append(model_class.__name__)
    assert offenders == []
