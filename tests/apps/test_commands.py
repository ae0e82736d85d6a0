"""``manage.py set_app_status`` (SPEC §10)."""

from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from apps.constants import AppStatus
from apps.models import ActivityEvent
from tests.factories import AppFactory, UserFactory

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_set_app_status_as_a_named_staff_user(staff_user, django_capture_on_commit_callbacks):
    app = AppFactory(package_id="com.example.cmd", status=AppStatus.PUBLISHED)
    with django_capture_on_commit_callbacks(execute=True):
        out = run(
            "set_app_status",
            "com.example.cmd",
            "suspended",
            "--reason",
            "malware",
            "--actor-email",
            staff_user.email,
        )
    assert "published -> suspended" in out
    app.refresh_from_db()
    assert app.status == AppStatus.SUSPENDED
    event = ActivityEvent.objects.get(app=app, type="app.status_changed")
    assert event.actor == staff_user
    assert event.data["reason"] == "malware"
    assert len(mail.outbox) == 1


def test_set_app_status_defaults_to_a_superuser(staff_user):
    app = AppFactory(package_id="com.example.cmd", status=AppStatus.SUSPENDED)
    run("set_app_status", "com.example.cmd", "published")
    app.refresh_from_db()
    assert app.status == AppStatus.PUBLISHED


def test_set_app_status_same_state_is_a_noop(staff_user):
    AppFactory(package_id="com.example.cmd", status=AppStatus.DISABLED)
    assert "nothing changed" in run("set_app_status", "com.example.cmd", "disabled")


@pytest.mark.parametrize(
    "args,message",
    [
        (["com.example.none", "suspended"], "No app with package id"),
        (["com.example.cmd", "deleted"], "Unknown status"),
        (["com.example.cmd", "published"], "current state is 'draft'"),
        (["com.example.cmd", "suspended", "--actor-email", "nobody@example.com"], "No user with email"),
        (
            ["com.example.cmd", "suspended", "--actor-email", "dev-not-staff@example.com"],
            "not an active staff",
        ),
    ],
)
def test_set_app_status_bad_input_fails_clearly(staff_user, args, message):
    AppFactory(package_id="com.example.cmd")
    UserFactory(email="dev-not-staff@example.com")
    with pytest.raises(CommandError, match=message):
        run("set_app_status", *args)


def test_set_app_status_without_any_staff_account_fails():
    AppFactory(package_id="com.example.cmd", status=AppStatus.PUBLISHED)
    with pytest.raises(CommandError, match="No active superuser"):
        run("set_app_status", "com.example.cmd", "suspended")


def test_set_app_status_help_lists_arguments():
    from django.core.management import get_commands, load_command_class

    command = load_command_class(get_commands()["set_app_status"], "set_app_status")
    help_text = command.create_parser("manage.py", "set_app_status").format_help()
    assert "--reason" in help_text and "--actor-email" in help_text and "package_id" in help_text
