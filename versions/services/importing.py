"""Import a package file from disk through the real pipeline (``manage.py import_package``, ``seed_demo``):
create → store the file → upload-complete → validate → submit → approve → publish."""

from __future__ import annotations

import json
import os
import uuid
import zipfile
from dataclasses import dataclass

from django.db import transaction

from apps.models import App
from apps.services import activity_record
from mosis.core import storage
from mosis.core.errors import ApplicationError, ErrorCode

from ..constants import VersionStatus
from ..models import AppVersion
from .lifecycle import (
    version_create,
    version_publish,
    version_review,
    version_submit,
    version_upload_complete,
)
from .validation import version_validate

MAX_MANIFEST_BYTES = 64 * 1024
REQUIRED_MANIFEST_FIELDS = {"package_id": str, "name": str, "version_name": str, "version_code": int}


@dataclass
class ImportResult:
    app: App
    version: AppVersion
    created_app: bool
    created_version: bool


def read_package_manifest(path: str) -> dict:
    """manifest.json of a package on disk, bounded, for learning what to create. The package itself is
    validated by the pipeline afterwards. 400 VALIDATION_ERROR with a clear message otherwise."""
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("manifest.json")
            if info.file_size > MAX_MANIFEST_BYTES:
                raise ValueError("manifest.json is larger than 64 KiB")
            with archive.open(info) as fh:
                raw = fh.read(MAX_MANIFEST_BYTES + 1)
        manifest = json.loads(raw.decode("utf-8"))
    except KeyError:
        raise ApplicationError(ErrorCode.VALIDATION_ERROR, f"{path}: the package has no manifest.json.")
    except (OSError, zipfile.BadZipFile, ValueError, UnicodeDecodeError) as exc:
        raise ApplicationError(ErrorCode.VALIDATION_ERROR, f"{path}: not a readable package ({exc}).")
    if not isinstance(manifest, dict):
        raise ApplicationError(ErrorCode.VALIDATION_ERROR, f"{path}: manifest.json is not a JSON object.")
    for name, kind in REQUIRED_MANIFEST_FIELDS.items():
        if not isinstance(manifest.get(name), kind) or isinstance(manifest.get(name), bool):
            raise ApplicationError(
                ErrorCode.VALIDATION_ERROR,
                f"{path}: manifest.json needs a {kind.__name__} '{name}'.",
                {name: ["Missing or of the wrong type."]},
            )
    return manifest


def _app_for_import(*, owner, package_id: str, manifest: dict, app_defaults: dict) -> tuple[App, bool]:
    with transaction.atomic():
        app = App.objects.filter(package_id=package_id).first()
        if app is not None:
            if app.owner_id != owner.pk:
                raise ApplicationError(
                    ErrorCode.CONFLICT,
                    f"{package_id} belongs to another developer.",
                    {"package_id": ["Owned by another developer."]},
                )
            return app, False
        app = App.objects.create(
            id=uuid.uuid4(),
            owner=owner,
            package_id=package_id,
            name=str(manifest.get("name", package_id))[:100],
            description=str(manifest.get("description", ""))[:500],
            requires_restart=bool(manifest.get("requires_restart", False)),
            **app_defaults,
        )
        activity_record(type="app.created", app=app, actor=owner, data={"package_id": package_id})
        return app, True


def package_import(
    *,
    path: str,
    owner,
    reviewer=None,
    package_id: str | None = None,
    signature: str = "",
    signing_key_id=None,
    publish: bool = True,
    release_notes: str = "",
    app_defaults: dict | None = None,
    notify_owner: bool = True,
) -> ImportResult:
    """Take the package at ``path`` through the same services a client uses, as ``owner``.

    Creates the app if needed (``app_defaults`` are extra App fields for a new app). Idempotent: a version
    with the manifest's ``version_code`` that already exists is returned as is. With ``publish`` the version
    is submitted, approved by ``reviewer`` (staff, not the owner: the review policy applies) and published.
    Raises ``ApplicationError`` if the package fails validation (the version stays ``rejected`` with its
    report) or the review is refused.
    """
    manifest = read_package_manifest(path)
    package_id = package_id or manifest["package_id"]
    app, created_app = _app_for_import(
        owner=owner, package_id=package_id, manifest=manifest, app_defaults=app_defaults or {}
    )
    existing = AppVersion.objects.filter(app=app, version_code=manifest["version_code"]).first()
    if existing is not None:
        return ImportResult(app=app, version=existing, created_app=created_app, created_version=False)
    if publish and reviewer is None:
        raise ApplicationError(ErrorCode.VALIDATION_ERROR, "Publishing an import needs a staff reviewer.")
    version, _ = version_create(
        app=app,
        actor=owner,
        version_name=manifest["version_name"],
        version_code=manifest["version_code"],
        release_notes=release_notes,
        size=os.path.getsize(path),
    )
    storage.put_file(version.upload_key, path)
    version_upload_complete(version=version, actor=owner, signature=signature, signing_key_id=signing_key_id)
    # Inline, so the import does not depend on a worker; a no-op if an eager task already validated it.
    version_validate(version_id=version.id)
    version.refresh_from_db()
    if version.status != VersionStatus.DRAFT:
        problems = [
            f"{issue.get('code')}: {issue.get('message')}"
            for issue in (version.validation_report or {}).get("errors", [])
        ]
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            f"{path} failed validation: " + "; ".join(problems or [version.status]),
            {"package": problems},
        )
    if publish:
        version_submit(version=version, actor=owner)
        version_review(
            version=version,
            reviewer=reviewer,
            decision="approve",
            notes="Imported package.",
            notify=notify_owner,
        )
        if version.status == VersionStatus.APPROVED:
            version_publish(version=version, actor=owner)
    return ImportResult(app=app, version=version, created_app=created_app, created_version=True)
