"""The package diff after validation: computed by a Celery task through storage and the strict reader, stored
file by file, idempotent, recomputed against a new base, failing (never crashing) on a hostile package."""

import io

import pytest
from django.utils import timezone

from mosis.core import storage
from mosis_package import build_package
from tests.factories import AppFactory, AppVersionFactory
from tests.versions.pipeline import manifest_for, package_bytes, upload_and_validate
from versions.constants import DiffStatus, FileChange, VersionStatus
from versions.models import AppVersion, PackageDiff, PackageDiffFile
from versions.services import package_diff_compute, package_diff_request
from versions.tasks import package_diff_task

pytestmark = pytest.mark.django_db


def stored_package(version: AppVersion, files: dict[str, bytes], **manifest) -> None:
    out = io.BytesIO()
    build_package(
        out,
        manifest={
            "package_id": version.app.package_id,
            "name": version.app.name,
            "version_name": version.version_name,
            "version_code": version.version_code,
            **manifest,
        },
        files=files,
    )
    storage.put_bytes(version.package_key, out.getvalue())


@pytest.fixture
def app(user):
    return AppFactory(owner=user, package_id="com.example.difftask")


def test_validation_computes_the_diff_against_the_last_published_version(
    app, auth_client, django_capture_on_commit_callbacks
):
    first = upload_and_validate(
        auth_client,
        app,
        package_bytes(manifest_for(app), files={"src/a.js": b"one\n", "old.txt": b"old\n"}),
        django_capture_on_commit_callbacks,
    )
    AppVersion.objects.filter(pk=first["id"]).update(status=VersionStatus.PUBLISHED)
    second = upload_and_validate(
        auth_client,
        app,
        package_bytes(
            manifest_for(app, version_code=2, version_name="1.1.0", permissions=["network", "camera"]),
            files={"src/a.js": b"two\n", "new.txt": b"new\n"},
        ),
        django_capture_on_commit_callbacks,
        version_code=2,
        version_name="1.1.0",
    )
    assert second["status"] == "draft"
    diff = PackageDiff.objects.get(version_id=second["id"])
    assert diff.status == DiffStatus.READY
    assert str(diff.base_version_id) == first["id"]
    assert (diff.files_added, diff.files_removed, diff.files_changed) == (1, 1, 2)
    assert diff.files_unchanged == 1  # the icon
    assert diff.computed_at is not None and diff.duration_ms is not None
    assert [c["field"] for c in diff.manifest_changes] == ["permissions", "version_code", "version_name"]
    rows = list(diff.files.order_by("position"))
    assert [r.path for r in rows] == ["manifest.json", "new.txt", "old.txt", "src/a.js"]
    code = next(r for r in rows if r.path == "src/a.js")
    assert code.change == FileChange.CHANGED and "-one" in code.diff_text and "+two" in code.diff_text


def test_a_failed_validation_computes_no_diff(app, auth_client, django_capture_on_commit_callbacks):
    bad = package_bytes(manifest_for(app, version_code=9))  # the manifest disagrees with the version record
    body = upload_and_validate(auth_client, app, bad, django_capture_on_commit_callbacks)
    assert body["status"] == "rejected"
    assert not PackageDiff.objects.exists()


def test_the_task_is_idempotent_while_the_base_is_the_same(user):
    version = AppVersionFactory(app=AppFactory(owner=user), status=VersionStatus.REVIEW)
    stored_package(version, {"a.txt": b"a\n"})
    assert package_diff_task.delay(str(version.pk)).get() == DiffStatus.READY
    diff = PackageDiff.objects.get(version=version)
    first_files = list(diff.files.values_list("pk", flat=True))
    package_diff_task.delay(str(version.pk)).get()
    assert list(PackageDiff.objects.get(version=version).files.values_list("pk", flat=True)) == first_files


def test_a_new_base_is_picked_up_when_recomputed(user):
    app = AppFactory(owner=user)
    base = AppVersionFactory(app=app, version_code=1, status=VersionStatus.PUBLISHED)
    stored_package(base, {"a.txt": b"v1\n"})
    version = AppVersionFactory(app=app, version_code=3, status=VersionStatus.REVIEW)
    stored_package(version, {"a.txt": b"v3\n"})
    assert package_diff_compute(version_id=version.pk).base_version == base
    newer_base = AppVersionFactory(app=app, version_code=2, status=VersionStatus.PUBLISHED)
    stored_package(newer_base, {"a.txt": b"v3\n"})
    diff = package_diff_compute(version_id=version.pk)
    assert diff.base_version == newer_base
    assert diff.files.filter(path="a.txt").count() == 0  # same bytes as the new base
    assert PackageDiffFile.objects.filter(diff=diff).count() == diff.files.count()


def test_versions_not_worth_diffing_are_left_alone(user):
    published = AppVersionFactory(status=VersionStatus.PUBLISHED)
    stored_package(published, {"a.txt": b"a"})
    assert package_diff_compute(version_id=published.pk) is None
    assert package_diff_compute(version_id="00000000-0000-0000-0000-000000000000") is None
    assert not PackageDiff.objects.exists()


def test_a_hostile_stored_package_ends_failed_with_the_readers_message(user):
    version = AppVersionFactory(app=AppFactory(owner=user), status=VersionStatus.REVIEW)
    out = io.BytesIO()
    build_package(out, manifest={"package_id": version.app.package_id}, files={"a.txt": b"a"})
    storage.put_bytes(version.package_key, out.getvalue() + b"hidden trailing payload")
    diff = package_diff_compute(version_id=version.pk)
    assert diff.status == DiffStatus.FAILED
    assert "cannot be read safely" in diff.error and "follow the end" in diff.error
    assert diff.files.count() == 0
    version.refresh_from_db()
    assert version.status == VersionStatus.REVIEW  # a diff never changes the version


def test_a_missing_package_ends_failed_and_can_be_recomputed(user, django_capture_on_commit_callbacks):
    version = AppVersionFactory(app=AppFactory(owner=user), status=VersionStatus.REVIEW)
    diff = package_diff_compute(version_id=version.pk)
    assert diff.status == DiffStatus.FAILED and "cannot be read" in diff.error
    stored_package(version, {"a.txt": b"a"})
    with django_capture_on_commit_callbacks(execute=True):
        requested = package_diff_request(version=version)
        assert requested.status == DiffStatus.PENDING
    diff.refresh_from_db()
    assert diff.status == DiffStatus.READY and diff.error == ""


def test_an_unexpected_error_fails_closed_with_a_message(user, monkeypatch):
    version = AppVersionFactory(app=AppFactory(owner=user), status=VersionStatus.REVIEW)
    stored_package(version, {"a.txt": b"a"})

    def explode(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr("versions.services.diff.diff_packages", explode)
    diff = package_diff_compute(version_id=version.pk)
    assert diff.status == DiffStatus.FAILED and "unexpectedly" in diff.error


def test_storage_errors_are_retried_by_the_task(user, monkeypatch):
    from versions.services import StorageUnavailable

    version = AppVersionFactory(app=AppFactory(owner=user), status=VersionStatus.REVIEW)

    class Unreachable:
        def __enter__(self):
            raise OSError("bucket unreachable")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr("versions.services.diff.storage.local_copy", lambda key: Unreachable())
    with pytest.raises(StorageUnavailable):
        package_diff_compute(version_id=version.pk, final_attempt=False)
    diff = package_diff_compute(version_id=version.pk, final_attempt=True)
    assert diff.status == DiffStatus.FAILED and "storage" in diff.error


def test_many_files_are_stored_in_batches(user, django_assert_max_num_queries):
    version = AppVersionFactory(app=AppFactory(owner=user), status=VersionStatus.REVIEW)
    stored_package(version, {f"f{i:04d}.txt": f"{i}\n".encode() for i in range(1200)})
    # 1202 rows in a handful of INSERTs (PostgreSQL: 3 of 500; SQLite caps a statement's parameters: 15).
    with django_assert_max_num_queries(30):
        diff = package_diff_compute(version_id=version.pk)
    assert diff.files.count() == 1202  # + manifest.json and the icon
    assert diff.computed_at <= timezone.now()
    assert diff.manifest_changes == []  # no manifest recorded on a factory version, none on an empty base
