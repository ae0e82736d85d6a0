"""Validation as a Celery task: bad packages end ``rejected`` with a report, signatures are checked against
the owner's keys, the task is idempotent and fails closed, and the sweeper returns stuck versions."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from mosis.core import storage
from tests.factories import AppFactory, AppVersionFactory
from tests.versions.pipeline import (
    create_version,
    manifest_for,
    package_bytes,
    register_signing_key,
    sign_bytes,
    signed_completion,
    upload_and_validate,
    version_url,
)
from versions import services
from versions.constants import VersionStatus
from versions.models import AppVersion
from versions.services import validation
from versions.tasks import sweep_uploads_task, validate_version_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(user):
    return AppFactory(owner=user, package_id="com.example.valid")


def error_codes(version: dict) -> list[str]:
    return [issue["code"] for issue in version["validation_report"]["errors"]]


def _not_a_zip(app):
    return b"this is not a zip archive at all" * 10


def _path_traversal(app):
    return package_bytes(manifest_for(app), files={"../evil.txt": b"x"})


def _package_id_mismatch(app):
    return package_bytes(manifest_for(app, package_id="com.example.other"))


def _unknown_permission(app):
    return package_bytes(manifest_for(app, permissions=["mind_control"]))


def _bad_icon(app):
    return package_bytes(manifest_for(app), icon=b"GIF89a not a png")


def _version_code_mismatch(app):
    return package_bytes(manifest_for(app, version_code=7))


@pytest.mark.parametrize(
    "build, code",
    [
        (_not_a_zip, "NOT_A_ZIP"),
        (_path_traversal, "PATH_TRAVERSAL"),
        (_package_id_mismatch, "PACKAGE_ID_MISMATCH"),
        (_version_code_mismatch, "VERSION_CODE_MISMATCH"),
        (_unknown_permission, "UNKNOWN_PERMISSION"),
        (_bad_icon, "ICON_NOT_PNG"),
    ],
)
def test_bad_package_is_rejected_with_a_report(
    auth_client, app, build, code, no_ratelimits, django_capture_on_commit_callbacks
):
    version = upload_and_validate(auth_client, app, build(app), django_capture_on_commit_callbacks)
    assert version["status"] == "rejected"
    assert code in error_codes(version)
    assert version["validation_report"]["ok"] is False
    assert AppVersion.objects.get(pk=version["id"]).icon_key == ""
    # A package rejected for what it is cannot be re-validated: the developer uploads a new version.
    retry = auth_client.put(version_url(app, version["id"], "/upload-complete"), {}, format="json")
    assert retry.status_code == 409


def test_forged_signature_is_rejected(
    auth_client, user, app, tmp_path, no_ratelimits, django_capture_on_commit_callbacks
):
    register_signing_key(user)
    _, stranger_key = register_signing_key(AppFactory().owner)
    data = package_bytes(manifest_for(app))
    forged = sign_bytes(tmp_path, data, stranger_key)
    version = upload_and_validate(
        auth_client, app, data, django_capture_on_commit_callbacks, signature=forged
    )
    assert version["status"] == "rejected"
    assert error_codes(version) == ["SIGNATURE_INVALID"]


def test_signature_by_a_revoked_key_is_rejected(
    auth_client, user, app, tmp_path, no_ratelimits, django_capture_on_commit_callbacks
):
    key, private_key = register_signing_key(user, revoked=True)
    register_signing_key(user, name="current")
    data = package_bytes(manifest_for(app))
    version = upload_and_validate(
        auth_client,
        app,
        data,
        django_capture_on_commit_callbacks,
        signature=sign_bytes(tmp_path, data, private_key),
    )
    assert version["status"] == "rejected"
    assert error_codes(version) == ["SIGNATURE_KEY_REVOKED"]


def test_unsigned_package_is_rejected_as_signatures_are_required_by_default(
    auth_client, app, no_ratelimits, django_capture_on_commit_callbacks
):
    version = upload_and_validate(
        auth_client, app, package_bytes(manifest_for(app)), django_capture_on_commit_callbacks, signed=False
    )
    assert error_codes(version) == ["SIGNATURE_MISSING"]


def test_sensitive_permissions_are_flagged_not_refused(
    auth_client, app, no_ratelimits, django_capture_on_commit_callbacks
):
    data = package_bytes(manifest_for(app, permissions=["network", "location"]))
    version = upload_and_validate(auth_client, app, data, django_capture_on_commit_callbacks)
    assert version["status"] == "draft"
    assert version["sensitive_permissions"] == ["location"]
    assert "SENSITIVE_PERMISSION" in [w["code"] for w in version["validation_report"]["warnings"]]


def test_dependency_rules_of_the_object_form_are_recorded_on_the_version(
    auth_client, app, no_ratelimits, django_capture_on_commit_callbacks
):
    dependencies = {
        "com.example.sync": "^2.1.0",
        "com.example.maps": {"version": "^3", "optional": True, "description": "Maps."},
        "com.example.fonts": {"version": "^1", "config": {"ligatures": True}},
    }
    data = package_bytes(manifest_for(app, dependencies=dependencies))
    version = upload_and_validate(auth_client, app, data, django_capture_on_commit_callbacks)
    assert version["status"] == "draft", version["validation_report"]
    assert version["dependencies"] == {
        "com.example.fonts": "^1",
        "com.example.maps": "^3",
        "com.example.sync": "^2.1.0",
    }
    assert version["dependency_rules"] == {
        "com.example.fonts": {
            "optional": False,
            "default": True,
            "description": "",
            "config": {"ligatures": True},
        },
        "com.example.maps": {"optional": True, "default": False, "description": "Maps.", "config": {}},
    }
    assert AppVersion.objects.get(pk=version["id"]).dependency_rules == version["dependency_rules"]


def _validating_version(auth_client, app, data):
    created = create_version(auth_client, app, size=len(data)).json()
    version = AppVersion.objects.get(pk=created["version"]["id"])
    storage.put_bytes(version.upload_key, data)
    # upload-complete outside on_commit capture: the task is not run yet.
    services.version_upload_complete(version=version, actor=app.owner, **signed_completion(app.owner, data))
    assert version.status == VersionStatus.VALIDATING
    return version


def test_task_run_twice_is_idempotent(auth_client, app, no_ratelimits):
    version = _validating_version(auth_client, app, package_bytes(manifest_for(app)))
    assert validate_version_task.apply(args=[str(version.id)]).get() == "draft"
    first = AppVersion.objects.get(pk=version.id)
    assert validate_version_task.apply(args=[str(version.id)]).get() == "draft"
    second = AppVersion.objects.get(pk=version.id)
    assert (first.updated_at, first.sha256, first.validation_report) == (
        second.updated_at,
        second.sha256,
        second.validation_report,
    )
    assert second.events.filter(type="version.validated").count() == 1


def test_storage_error_in_process_fails_closed_at_once(auth_client, app, monkeypatch, no_ratelimits):
    version = _validating_version(auth_client, app, package_bytes(manifest_for(app)))

    def unreachable(key):
        raise OSError("storage unreachable")

    monkeypatch.setattr(storage, "local_copy", unreachable)
    assert validate_version_task.apply(args=[str(version.id)]).get() == "rejected"


def test_task_for_a_deleted_version_is_a_no_op():
    assert validate_version_task.apply(args=["6d1f7a43-0d55-4a3e-b8a6-2d5f8f2c3d11"]).get() is None


def test_validator_crash_fails_closed_and_the_developer_can_retry(
    auth_client, app, monkeypatch, no_ratelimits, django_capture_on_commit_callbacks
):
    data = package_bytes(manifest_for(app))

    def crash(*args, **kwargs):
        raise RuntimeError("validator bug")

    monkeypatch.setattr(validation, "validate_package", crash)
    signed = signed_completion(app.owner, data)
    version = upload_and_validate(auth_client, app, data, django_capture_on_commit_callbacks, **signed)
    assert version["status"] == "rejected"
    assert error_codes(version) == ["INTERNAL"]

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        retry = auth_client.put(version_url(app, version["id"], "/upload-complete"), signed, format="json")
    assert retry.json()["status"] == "validating"
    assert auth_client.get(version_url(app, version["id"])).json()["status"] == "draft"


def test_storage_errors_are_retried_then_fail_closed(auth_client, app, monkeypatch, no_ratelimits):
    version = _validating_version(auth_client, app, package_bytes(manifest_for(app)))
    calls = []

    def unreachable(key):
        calls.append(key)
        raise OSError("storage unreachable")

    monkeypatch.setattr(storage, "local_copy", unreachable)
    # As on a worker: a failed attempt is retried (eagerly here, without the backoff delay).
    conf = validate_version_task.app.conf
    conf.update(task_eager_propagates=False)
    try:
        validate_version_task.apply(args=[str(version.id)])
    finally:
        conf.update(task_eager_propagates=True)
    version.refresh_from_db()
    assert len(calls) == 1 + validate_version_task.max_retries
    assert version.status == VersionStatus.REJECTED
    assert [e["code"] for e in version.validation_report["errors"]] == ["INTERNAL"]


def test_stuck_validation_is_swept_back_to_the_queue(
    auth_client, app, no_ratelimits, django_capture_on_commit_callbacks
):
    """A worker started the validation two hours ago and died: the sweeper sends it again (one attempt)."""
    version = _validating_version(auth_client, app, package_bytes(manifest_for(app)))
    long_ago = timezone.now() - timedelta(hours=2)
    AppVersion.objects.filter(pk=version.pk).update(
        validation_started_at=long_ago, validation_running_at=long_ago
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = sweep_uploads_task.apply().get()
    assert result["requeued"] == [str(version.id)]
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT, version.validation_report
    assert version.validation_attempts == 1


def test_validation_stuck_too_often_is_rejected_internal(auth_client, app, no_ratelimits):
    version = _validating_version(auth_client, app, package_bytes(manifest_for(app)))
    AppVersion.objects.filter(pk=version.pk).update(
        validation_started_at=timezone.now() - timedelta(hours=2),
        validation_running_at=timezone.now() - timedelta(hours=2),
        validation_attempts=services.MAX_VALIDATION_ATTEMPTS - 1,
    )
    report = services.versions_sweep()
    assert report.failed == [str(version.id)]
    version.refresh_from_db()
    assert version.status == VersionStatus.REJECTED
    assert version.validation_report["errors"][0]["code"] == "INTERNAL"


def test_recent_validation_is_left_alone(auth_client, app, no_ratelimits):
    version = _validating_version(auth_client, app, package_bytes(manifest_for(app)))
    assert services.versions_sweep().requeued == []
    version.refresh_from_db()
    assert version.status == VersionStatus.VALIDATING


def test_sweep_uploads_command_deletes_abandoned_uploads(
    auth_client, app, no_ratelimits, django_capture_on_commit_callbacks, capsys
):
    created = create_version(auth_client, app).json()
    key = AppVersion.objects.get(pk=created["version"]["id"]).upload_key
    storage.put_bytes(key, b"partial upload")
    fresh = AppVersionFactory(app=app, version_code=99, status=VersionStatus.UPLOADING)
    AppVersion.objects.filter(pk=created["version"]["id"]).update(
        created_at=timezone.now() - timedelta(days=2)
    )
    with django_capture_on_commit_callbacks(execute=True):
        call_command("sweep_uploads")
    assert not AppVersion.objects.filter(pk=created["version"]["id"]).exists()
    assert storage.object_size(key) is None
    assert AppVersion.objects.filter(pk=fresh.pk).exists()
    assert "1 abandoned upload(s) deleted" in capsys.readouterr().out


def test_beat_schedule_is_registered():
    """The data migration's function, run directly: rows it made at migrate time do not survive the table
    flush of transactional tests that may run earlier in the same worker."""
    import importlib

    from django.apps import apps as django_apps
    from django_celery_beat.models import PeriodicTask

    migration = importlib.import_module("versions.migrations.0003_sweep_uploads_schedule")
    migration.create_schedule(django_apps, None)
    migration.create_schedule(django_apps, None)  # idempotent: re-running registers nothing twice
    every_minute = importlib.import_module("versions.migrations.0005_validation_running_at")
    every_minute.sweep_every_minute(django_apps, None)

    task = PeriodicTask.objects.get(task="versions.tasks.sweep_uploads_task")
    assert task.enabled
    assert (task.interval.every, task.interval.period) == (1, "minutes")


def test_outbox_drain_is_scheduled_every_30_seconds():
    import importlib

    from django.apps import apps as django_apps
    from django_celery_beat.models import PeriodicTask

    importlib.import_module("mosis.core.migrations.0002_outbox").create_schedule(django_apps, None)
    task = PeriodicTask.objects.get(task="mosis.core.tasks.outbox_drain")
    assert (task.interval.every, task.interval.period) == (30, "seconds")


def test_mosis_version_the_store_cannot_index_is_rejected(
    auth_client, app, no_ratelimits, django_capture_on_commit_callbacks
):
    """Parts above 999 cannot become a sortable version number: the manifest schema refuses them."""
    data = package_bytes(manifest_for(app, min_mosis_version="1000.0", max_mosis_version="1000.1"))
    version = upload_and_validate(auth_client, app, data, django_capture_on_commit_callbacks)
    assert version["status"] == "rejected"
    assert set(error_codes(version)) == {"MANIFEST_SCHEMA"}
