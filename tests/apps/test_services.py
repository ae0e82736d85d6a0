"""The App state machine (SPEC §6): owner vs staff vs system, no-ops, conflicts, audit, notifications."""

import pytest
from django.core import mail

from apps.constants import AppStatus
from apps.models import ActivityEvent
from apps.services import app_mark_published, app_set_max_mosis_version, app_set_status
from mosis.core.errors import ApplicationError, ErrorCode
from mosis.core.signals import catalog_changed
from tests.conftest import requires_postgres
from tests.factories import AppFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog_signals():
    received = []

    def receiver(sender, app_id, reason, **kwargs):
        received.append((app_id, reason))

    catalog_changed.connect(receiver)
    yield received
    catalog_changed.disconnect(receiver)


def test_owner_can_unlist_and_relist_a_published_app(user):
    app = AppFactory(owner=user, status=AppStatus.PUBLISHED)
    app_set_status(app=app, to=AppStatus.UNLISTED, actor=user)
    app.refresh_from_db()
    assert app.status == AppStatus.UNLISTED
    assert app.status_changed_at is not None
    app_set_status(app=app, to=AppStatus.PUBLISHED, actor=user)
    app.refresh_from_db()
    assert app.status == AppStatus.PUBLISHED


def test_owner_cannot_suspend_their_app(user):
    app = AppFactory(owner=user, status=AppStatus.PUBLISHED)
    with pytest.raises(ApplicationError) as exc:
        app_set_status(app=app, to=AppStatus.SUSPENDED, actor=user)
    assert exc.value.code == ErrorCode.FORBIDDEN
    app.refresh_from_db()
    assert app.status == AppStatus.PUBLISHED


def test_owner_cannot_publish_a_draft_and_the_conflict_names_the_current_state(user):
    app = AppFactory(owner=user)
    with pytest.raises(ApplicationError) as exc:
        app_set_status(app=app, to=AppStatus.PUBLISHED, actor=user)
    assert exc.value.code == ErrorCode.CONFLICT
    assert "current state is 'draft'" in exc.value.message


def test_another_developer_cannot_change_the_status(user, other_user):
    app = AppFactory(owner=user, status=AppStatus.PUBLISHED)
    with pytest.raises(ApplicationError) as exc:
        app_set_status(app=app, to=AppStatus.UNLISTED, actor=other_user)
    assert exc.value.code == ErrorCode.FORBIDDEN


def test_unknown_status_is_a_validation_error(user):
    app = AppFactory(owner=user, status=AppStatus.PUBLISHED)
    with pytest.raises(ApplicationError) as exc:
        app_set_status(app=app, to="deleted", actor=user)
    assert exc.value.code == ErrorCode.VALIDATION_ERROR


def test_staff_moves_among_staff_states_records_activity_emails_owner_and_signals_catalog(
    staff_user, django_capture_on_commit_callbacks, catalog_signals
):
    app = AppFactory(status=AppStatus.PUBLISHED)
    with django_capture_on_commit_callbacks(execute=True):
        app_set_status(app=app, to=AppStatus.SUSPENDED, actor=staff_user, reason="malware")
    app.refresh_from_db()
    assert app.status == AppStatus.SUSPENDED
    event = ActivityEvent.objects.get(app=app, type="app.status_changed")
    assert event.actor == staff_user
    assert event.data == {"from": "published", "to": "suspended", "reason": "malware"}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [app.owner.email]
    assert "suspended" in mail.outbox[0].subject
    assert "malware" in mail.outbox[0].body
    assert catalog_signals == [(app.id, "status")]


def test_staff_can_restore_a_disabled_app_to_published(staff_user):
    app = AppFactory(status=AppStatus.DISABLED)
    app_set_status(app=app, to=AppStatus.PUBLISHED, actor=staff_user)
    app.refresh_from_db()
    assert app.status == AppStatus.PUBLISHED


def test_staff_cannot_publish_a_draft_app(staff_user):
    app = AppFactory()
    with pytest.raises(ApplicationError) as exc:
        app_set_status(app=app, to=AppStatus.PUBLISHED, actor=staff_user)
    assert exc.value.code == ErrorCode.CONFLICT


def test_owner_change_sends_no_email(user, django_capture_on_commit_callbacks):
    app = AppFactory(owner=user, status=AppStatus.PUBLISHED)
    with django_capture_on_commit_callbacks(execute=True):
        app_set_status(app=app, to=AppStatus.UNLISTED, actor=user)
    assert mail.outbox == []


def test_same_status_is_409_without_activity_or_signal(
    staff_user, django_capture_on_commit_callbacks, catalog_signals
):
    """SPEC §6: a move to the state the app is in is not allowed either (409 naming it)."""
    app = AppFactory(status=AppStatus.SUSPENDED)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ApplicationError) as exc:
        app_set_status(app=app, to=AppStatus.SUSPENDED, actor=staff_user)
    assert exc.value.code == "CONFLICT"
    assert exc.value.details == {"status": ["current state is 'suspended'"]}
    assert not ActivityEvent.objects.filter(app=app).exists()
    assert catalog_signals == []
    assert mail.outbox == []


def test_system_moves_a_published_app_to_pending_disable():
    app = AppFactory(status=AppStatus.PUBLISHED)
    app_set_status(app=app, to=AppStatus.PENDING_DISABLE, system=True, reason="abuse reports")
    app.refresh_from_db()
    assert app.status == AppStatus.PENDING_DISABLE


def test_system_cannot_disable():
    app = AppFactory(status=AppStatus.PUBLISHED)
    with pytest.raises(ApplicationError) as exc:
        app_set_status(app=app, to=AppStatus.DISABLED, system=True)
    assert exc.value.code == ErrorCode.CONFLICT


def test_mark_published_publishes_a_draft_once_and_always_signals(
    user, django_capture_on_commit_callbacks, catalog_signals
):
    app = AppFactory(owner=user)
    with django_capture_on_commit_callbacks(execute=True):
        app_mark_published(app=app, actor=user)
    app.refresh_from_db()
    assert app.status == AppStatus.PUBLISHED
    first = app.first_published_at
    assert first is not None
    assert (app.id, "published") in catalog_signals
    assert ActivityEvent.objects.filter(app=app, type="app.status_changed").count() == 1
    assert mail.outbox == []

    catalog_signals.clear()
    with django_capture_on_commit_callbacks(execute=True):
        app_mark_published(app=app, actor=user)
    app.refresh_from_db()
    assert app.first_published_at == first
    assert catalog_signals == [(app.id, "published")]
    assert ActivityEvent.objects.filter(app=app, type="app.status_changed").count() == 1


def test_mark_published_keeps_an_unlisted_app_unlisted(user):
    app = AppFactory(owner=user, status=AppStatus.UNLISTED)
    app_mark_published(app=app, actor=user)
    app.refresh_from_db()
    assert app.status == AppStatus.UNLISTED


def test_staff_sets_and_clears_max_mosis_version(
    staff_user, django_capture_on_commit_callbacks, catalog_signals
):
    app = AppFactory()
    with django_capture_on_commit_callbacks(execute=True):
        app_set_max_mosis_version(app=app, value="2.9", actor=staff_user)
    app.refresh_from_db()
    assert app.max_mosis_version_override == "2.9"
    assert catalog_signals == [(app.id, "metadata")]
    app_set_max_mosis_version(app=app, value="", actor=staff_user)
    app.refresh_from_db()
    assert app.max_mosis_version_override == ""
    assert ActivityEvent.objects.filter(app=app, type="app.max_mosis_version_changed").count() == 2


def test_max_mosis_version_is_validated_and_staff_only(staff_user):
    app = AppFactory()
    with pytest.raises(ApplicationError) as exc:
        app_set_max_mosis_version(app=app, value="2.x", actor=staff_user)
    assert exc.value.code == ErrorCode.VALIDATION_ERROR
    with pytest.raises(ApplicationError) as exc:
        app_set_max_mosis_version(app=app, value="2.9", actor=UserFactory())
    assert exc.value.code == ErrorCode.FORBIDDEN


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_one_package_id_exactly_one_wins():
    import threading

    from django.db import connection

    from apps.models import App
    from apps.services import app_create

    owners = [UserFactory(), UserFactory(), UserFactory(), UserFactory()]
    barrier = threading.Barrier(len(owners))
    outcomes = []

    def create(owner):
        try:
            barrier.wait(timeout=10)
            app_create(owner=owner, package_id="com.example.race", name="Race")
            outcomes.append("created")
        except ApplicationError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(owner,)) for owner in owners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["CONFLICT"] * 3 + ["created"]
    assert App.objects.filter(package_id="com.example.race").count() == 1


def test_app_remove_refuses_an_app_that_was_ever_published_and_keeps_it():
    from django.utils import timezone

    from apps.models import App
    from apps.services import app_remove

    app = AppFactory(status=AppStatus.UNLISTED, first_published_at=timezone.now())
    with pytest.raises(ApplicationError) as refused:
        app_remove(app=app, actor=app.owner)
    assert refused.value.code == ErrorCode.CONFLICT
    assert App.objects.filter(pk=app.pk).exists()


def test_app_remove_deletes_the_row_reserves_the_package_id_and_records_it(
    django_capture_on_commit_callbacks, catalog_signals
):
    from apps.models import App, ReservedPackageId
    from apps.services import app_remove

    app = AppFactory(package_id="com.example.removed")
    with django_capture_on_commit_callbacks(execute=True):
        app_remove(app=app, actor=app.owner)
    assert not App.objects.filter(pk=app.pk).exists()
    assert ReservedPackageId.objects.filter(
        package_id="com.example.removed", previous_owner=app.owner
    ).exists()
    assert ActivityEvent.objects.filter(type="app.deleted", data__package_id="com.example.removed").exists()
    assert catalog_signals == [(app.pk, "deleted")]
