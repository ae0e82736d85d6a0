"""The dashboard's "what to do next" for each state an app and its newest version can be in."""

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.constants import AppStatus
from portal.next_steps import next_step_for
from tests.portal.conftest import make_app, make_version
from versions.constants import VersionStatus

pytestmark = pytest.mark.django_db


def test_an_app_without_versions_asks_for_the_first_upload(user):
    app = make_app(user)
    step = next_step_for(app=app, newest=None)
    assert (step.text, step.tone) == ("Upload your first version", "action")
    assert step.url == reverse("portal:version-new", args=[app.pk])


@pytest.mark.parametrize(
    ("status", "extra", "text", "tone"),
    [
        (VersionStatus.UPLOADING, {}, "Upload the package of 1.4.0", "action"),
        (VersionStatus.VALIDATING, {}, "Validation of 1.4.0 is running", "wait"),
        (VersionStatus.DRAFT, {}, "Submit 1.4.0 for review", "action"),
        (VersionStatus.REVIEW, {}, "1.4.0 is waiting for a reviewer", "wait"),
        (VersionStatus.APPROVED, {}, "Publish 1.4.0", "action"),
        (
            VersionStatus.REJECTED,
            {"validation_report": {"errors": [{"code": "A"}, {"code": "B"}]}},
            "Fix 2 validation errors in 1.4.0",
            "problem",
        ),
        (
            VersionStatus.REJECTED,
            {"validation_report": {"errors": [{"code": "A"}]}},
            "Fix 1 validation error in 1.4.0",
            "problem",
        ),
        (
            VersionStatus.REJECTED,
            {"validation_report": {"errors": [{"code": "INTERNAL"}]}},
            "Retry the validation of 1.4.0",
            "action",
        ),
        (
            VersionStatus.REJECTED,
            {"reviewed_at": timezone.now()},
            "Read the reviewer's notes on 1.4.0",
            "problem",
        ),
        (
            VersionStatus.PUBLISHED,
            {},
            "1.4.0 is live: upload the next version when it is ready",
            "done",
        ),
        (
            VersionStatus.PUBLISHED,
            {"yanked_at": timezone.now()},
            "1.4.0 was yanked: upload a fixed version",
            "action",
        ),
    ],
)
def test_each_version_state_has_its_next_step(user, status, extra, text, tone):
    app = make_app(user)
    version = make_version(app, status=status, version_name="1.4.0", **extra)
    step = next_step_for(app=app, newest=version)
    assert (step.text, step.tone) == (text, tone)


def test_app_states_set_by_staff_or_unlisting_come_first(user):
    app = make_app(user)
    version = make_version(app, status=VersionStatus.PUBLISHED)
    app.status = AppStatus.SUSPENDED
    assert next_step_for(app=app, newest=version).tone == "problem"
    app.status = AppStatus.UNLISTED
    assert "relist it" in next_step_for(app=app, newest=version).text
