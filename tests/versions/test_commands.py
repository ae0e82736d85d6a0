"""Operator commands: review, import_package, sweep_uploads, and seed_demo's categories and accounts (SPEC §10;
its catalog: test_demo_catalog.py)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from apps.models import App, Category
from mosis_package import sign_file
from tests.factories import AppFactory, AppVersionFactory, UserFactory
from tests.versions.pipeline import manifest_for, register_signing_key, write_package
from versions.constants import VersionStatus
from versions.models import AppVersion

pytestmark = pytest.mark.django_db


class FakeApp:
    package_id = "com.example.imported"
    name = "Imported"


def test_review_list_shows_the_queue(staff_user, capsys):
    version = AppVersionFactory(status=VersionStatus.REVIEW, sensitive_permissions=["camera"])
    from django.utils import timezone

    AppVersion.objects.filter(pk=version.pk).update(submitted_at=timezone.now())
    call_command("review", "list")
    out = capsys.readouterr().out
    assert str(version.id) in out
    assert "sensitive: camera" in out


def test_review_list_empty(staff_user, capsys):
    call_command("review", "list")
    assert "empty" in capsys.readouterr().out


def test_review_approve_and_reject(staff_user, capsys):
    first = AppVersionFactory(status=VersionStatus.REVIEW)
    second = AppVersionFactory(status=VersionStatus.REVIEW)
    call_command("review", "approve", str(first.id), "--notes", "ok")
    call_command("review", "reject", str(second.id), "--notes", "Crashes.", "--actor-email", staff_user.email)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.reviewed_by) == (VersionStatus.APPROVED, staff_user)
    assert (second.status, second.review_notes) == (VersionStatus.REJECTED, "Crashes.")


def test_review_respects_a_console_claim_unless_overridden(staff_user, django_capture_on_commit_callbacks):
    from django.core import mail

    from versions.services import review_claim

    version = AppVersionFactory(status=VersionStatus.REVIEW)
    review_claim(version=version, reviewer=UserFactory(is_staff=True, email="holder@mosis.dev"))
    with pytest.raises(CommandError, match="holder@mosis.dev has claimed this version"):
        call_command("review", "approve", str(version.id))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("review", "approve", str(version.id), "--notes", "Checked.", "--override-claim")
    version.refresh_from_db()
    assert version.status == VersionStatus.APPROVED
    assert "> Checked." in mail.outbox[0].body  # the console's decision email


@pytest.mark.parametrize(
    "argv, message",
    [
        (["reject", "{id}"], "needs notes"),
        (["approve", "not-a-uuid"], "not a version id"),
        (["approve", "6d1f7a43-0d55-4a3e-b8a6-2d5f8f2c3d11"], "No version"),
        (["approve", "{id}", "--actor-email", "nobody@example.com"], "No user"),
        (["approve", "{id}", "--actor-email", "{dev}"], "is not staff"),
    ],
)
def test_review_bad_input_exits_non_zero(staff_user, argv, message):
    version = AppVersionFactory(status=VersionStatus.REVIEW)
    argv = [a.format(id=version.id, dev=version.app.owner.email) for a in argv]
    with pytest.raises(CommandError, match=message):
        call_command("review", *argv)
    version.refresh_from_db()
    assert version.status == VersionStatus.REVIEW


def test_review_refuses_the_reviewers_own_app(staff_user):
    own = AppVersionFactory(app=AppFactory(owner=staff_user), status=VersionStatus.REVIEW)
    with pytest.raises(CommandError, match="own"):
        call_command("review", "approve", str(own.id))


def test_review_without_any_superuser_is_a_clear_error(db):
    version = AppVersionFactory(status=VersionStatus.REVIEW)
    with pytest.raises(CommandError, match="No superuser"):
        call_command("review", "approve", str(version.id))


def test_import_package_publishes_a_signed_package(staff_user, tmp_path, capsys):
    dev = UserFactory(email="importer@example.com")
    key, private_key = register_signing_key(dev)
    path = write_package(tmp_path, manifest_for(FakeApp, version_code=3, version_name="0.3.0"))
    signature_file = tmp_path / "pkg.sig"
    signature_file.write_text(sign_file(path, private_key))

    call_command(
        "import_package",
        path,
        "--email",
        dev.email,
        "--publish",
        "--signature-file",
        str(signature_file),
        "--key",
        key.fingerprint,
    )
    app = App.objects.get(package_id="com.example.imported")
    version = app.versions.get()
    assert app.owner == dev
    assert app.status == "published"
    assert version.status == VersionStatus.PUBLISHED
    assert version.signing_key == key
    assert "published" in capsys.readouterr().out

    call_command("import_package", path, "--email", dev.email, "--publish")  # idempotent
    assert app.versions.count() == 1
    assert "already present" in capsys.readouterr().out


def test_import_package_without_publish_leaves_a_draft(db, tmp_path):
    dev = UserFactory()
    key, private_key = register_signing_key(dev)
    path = write_package(tmp_path, manifest_for(FakeApp))
    call_command("import_package", path, "--email", dev.email, "--signature", sign_file(path, private_key))
    assert AppVersion.objects.get().status == VersionStatus.DRAFT


def test_import_package_of_an_unsigned_package_fails_validation(db, tmp_path):
    dev = UserFactory()
    path = write_package(tmp_path, manifest_for(FakeApp))
    with pytest.raises(CommandError, match="SIGNATURE_MISSING"):
        call_command("import_package", path, "--email", dev.email)
    assert AppVersion.objects.get().status == VersionStatus.REJECTED


@pytest.mark.parametrize(
    "argv, message",
    [
        (["/nonexistent.mpk", "--email", "{dev}"], "no such file"),
        (["{bad}", "--email", "{dev}"], "not a readable package"),
        (["{good}", "--email", "nobody@example.com"], "No user"),
        (["{good}", "--email", "{dev}", "--key", "nope"], "signing keys"),
        (["{good}", "--email", "{dev}", "--package-id", "com.example.different"], "PACKAGE_ID_MISMATCH"),
    ],
)
def test_import_package_bad_input_exits_non_zero(db, tmp_path, argv, message):
    dev = UserFactory()
    bad = tmp_path / "bad.mpk"
    bad.write_bytes(b"not a zip")
    good = write_package(tmp_path, manifest_for(FakeApp))
    argv = [a.format(dev=dev.email, bad=bad, good=good) for a in argv]
    with pytest.raises(CommandError, match=message):
        call_command("import_package", *argv)


def test_import_package_refuses_someone_elses_app(db, tmp_path):
    AppFactory(package_id=FakeApp.package_id)
    path = write_package(tmp_path, manifest_for(FakeApp))
    with pytest.raises(CommandError, match="another developer"):
        call_command("import_package", path, "--email", UserFactory().email)


def test_seed_demo_creates_categories_and_accounts_idempotently():
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    assert Category.objects.filter(slug="productivity").count() == 1
    assert Category.objects.count() >= 8
    assert User.objects.filter(email="staff@mosis.dev", is_staff=True).count() == 1
    assert User.objects.filter(email="dev@mosis.dev").count() == 1
