"""Validation services: run the package validator on a stored upload, record its result, sweep stale work.

The Celery task (``versions.tasks.validate_version_task``) only calls ``version_validate``; so do
``import_package`` and ``seed_demo`` when they validate inline. Everything here is idempotent: a version is
only touched while it is ``validating``, under a row lock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from mosis.core import storage
from mosis.core.models import OutboxMessage
from mosis.core.mosis_version import mosis_version_number
from mosis.core.storage import STORAGE_ERRORS, StorageUnavailable
from mosis.core.tasks import DRAIN_GRACE, enqueue_on_commit
from mosis_package import Expected, Issue, Limits, PublicSigningKey, ValidationResult, validate_package

from ..constants import VersionStatus
from ..models import AppVersion
from .lifecycle import content_key_for, icon_key_for, version_delete, version_transition

logger = logging.getLogger("mosis.versions.validation")

# A validation whose worker died this many times is rejected (INTERNAL) instead of re-queued once more.
MAX_VALIDATION_ATTEMPTS = 3
# A started validation is presumed dead this long after the task's hard time limit would have ended it.
STUCK_GRACE_SECONDS = 60


def _signing_keys(owner_id) -> list[PublicSigningKey]:
    from accounts.models import SigningKey

    # Revoked keys are passed too (inactive) so a signature by one is reported as revoked, not unknown.
    return [
        PublicSigningKey(
            id=str(key.id),
            fingerprint=key.fingerprint,
            public_key_pem=key.public_key,
            active=key.revoked_at is None,
        )
        for key in SigningKey.objects.filter(user_id=owner_id)
    ]


def internal_failure(message: str) -> ValidationResult:
    """A result that rejects the version with the ``INTERNAL`` entry a developer can retry from."""
    return ValidationResult(errors=[Issue("INTERNAL", message)])


def version_validate(*, version_id, final_attempt: bool = True) -> AppVersion | None:
    """Validate the stored package of a ``validating`` version and record the result (→ draft / rejected).

    Idempotent: a missing version or one not in ``validating`` is left alone, so running it twice (a retried
    or duplicated task, the sweeper, ``import_package`` racing a worker) gives the same result. A storage
    failure raises ``StorageUnavailable`` for the task to retry, unless ``final_attempt``: then it fails
    closed and the version is rejected with an ``INTERNAL`` entry.
    """
    version = AppVersion.objects.select_related("app").filter(pk=version_id).first()
    if version is None or version.status != VersionStatus.VALIDATING:
        return version
    expected = Expected(
        package_id=version.app.package_id,
        version_code=version.version_code,
        version_name=version.version_name,
    )
    try:
        with storage.local_copy(version.package_key) as path:
            result = validate_package(
                path,
                expected=expected,
                signature=version.signature or None,
                signing_keys=_signing_keys(version.app.owner_id),
                require_signature=settings.REQUIRE_SIGNATURE,
                limits=Limits(max_package_size=settings.MAX_PACKAGE_SIZE),
                signing_key_id=str(version.signing_key_id) if version.signing_key_id else None,
            )
    except STORAGE_ERRORS as exc:
        logger.warning("package of version %s unreadable from storage: %s", version_id, exc)
        if not final_attempt:
            raise StorageUnavailable(str(exc)) from exc
        result = internal_failure("The package could not be read from storage. Please retry.")
    except Exception:  # fail closed: nothing unexpected lets a version through
        logger.exception("validation of version %s failed unexpectedly", version_id)
        result = internal_failure("Validation failed unexpectedly. Please retry.")
    return record_validation_result(version=version, result=result)


def record_validation_result(*, version: AppVersion, result: ValidationResult) -> AppVersion:
    """Write the validator's facts and report on the version and move it to ``draft`` (passed) or
    ``rejected``. A no-op unless the version is still ``validating``. The icon of a passing package is
    stored at ``apps/<app_id>/<version_id>-icon.png``."""
    report = result.report()
    errors = list(report["errors"])
    min_num = max_num = None
    try:
        min_num = mosis_version_number(result.min_mosis_version)
        max_num = mosis_version_number(result.max_mosis_version)
    except ValueError as exc:
        errors.append(
            Issue("MANIFEST_SCHEMA", f"Unsupported Mosis version: {exc}.", "manifest.json").as_dict()
        )
    report = {**report, "errors": errors, "ok": not errors}
    passed = not errors
    icon_key = ""
    if passed and result.icon_png:
        icon_key = icon_key_for(app_id=version.app_id, version_id=version.id)
        storage.put_bytes(icon_key, result.icon_png)
    changes = {
        "validation_report": report,
        "manifest": result.manifest,
        "sha256": result.sha256 or "",
        "package_size": result.size if result.size is not None else version.package_size,
        "permissions": list(result.permissions),
        "sensitive_permissions": list(result.sensitive_permissions),
        "dependencies": dict(result.dependencies),
        "dependency_rules": dict(result.dependency_rules),
        "languages": list(result.languages),
        "min_mosis_version": result.min_mosis_version or "",
        "max_mosis_version": result.max_mosis_version or "",
        "min_mosis_num": min_num,
        "max_mosis_num": max_num,
        "requires_restart": bool(result.requires_restart),
        "icon_key": icon_key,
    }
    if result.signing_key_id:
        changes["signing_key_id"] = result.signing_key_id
        changes["signing_key_fingerprint"] = result.signing_key_fingerprint or ""
    with transaction.atomic():
        locked = AppVersion.objects.select_for_update().filter(pk=version.pk).first()
        if locked is None or locked.status != VersionStatus.VALIDATING:
            return locked
        if passed and result.sha256:
            changes["package_key"] = _promote_to_content_key(locked, sha256=result.sha256)
        version_transition(
            version=locked,
            to=VersionStatus.DRAFT if passed else VersionStatus.REJECTED,
            changes=changes,
        )
        if passed:  # reviewers get the file-by-file diff against the last published version, computed now
            from .diff import package_diff_request

            package_diff_request(version=locked)
    return locked


def _promote_to_content_key(locked: AppVersion, *, sha256: str) -> str:
    """Copy the sealed package that just passed to its content-addressed key (row lock held) and return the
    key; the sealed copy is deleted after commit. Both keys are out of every upload URL's reach, so the bytes
    served are the bytes validated. An object already at the key has these very bytes (same SHA-256)."""
    target = content_key_for(sha256=sha256)
    source = locked.package_key
    if source == target:
        return target
    try:
        if not storage.object_exists(target):
            storage.copy_object(source, target)
    except STORAGE_ERRORS as exc:
        raise StorageUnavailable(str(exc)) from exc
    transaction.on_commit(lambda: _delete_quietly(source))
    return target


def _delete_quietly(key: str) -> None:
    try:
        storage.delete_object(key)
    except Exception:  # an orphaned sealed copy costs space, never correctness
        logger.exception("could not delete stored object %s", key)


@dataclass
class SweepReport:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)


def version_validation_started(*, version_id) -> bool:
    """A worker begins validating ``version_id``: stamp ``validation_running_at`` (False when the version is
    gone or no longer ``validating``: nothing to do)."""
    return bool(
        AppVersion.objects.filter(pk=version_id, status=VersionStatus.VALIDATING).update(
            validation_running_at=timezone.now()
        )
    )


def _stuck_validations(now):
    """``validating`` versions no live task is working on: queued ``VALIDATION_STUCK_MINUTES`` ago and never
    started (the message was lost), or started longer ago than the task's hard time limit allows (the
    worker died)."""
    queued_before = now - timedelta(minutes=settings.VALIDATION_STUCK_MINUTES)
    started_before = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + STUCK_GRACE_SECONDS)
    return AppVersion.objects.filter(status=VersionStatus.VALIDATING).filter(
        Q(validation_running_at__isnull=True, validation_started_at__lt=queued_before)
        | Q(validation_running_at__lt=started_before)
    )


def versions_sweep(*, now=None) -> SweepReport:
    """Re-queue validations no live task is working on (``_stuck_validations``), reject a version whose
    validation died ``MAX_VALIDATION_ATTEMPTS`` times (``INTERNAL``, the developer can retry), and delete
    ``uploading`` versions older than ``UPLOAD_ABANDONED_HOURS`` with their objects. Safe to run
    concurrently with workers (row locks).

    While the outbox still owes tasks the broker is down: re-queueing would only add to what it owes, so
    validations are left alone until it drained (a broker outage must not reject anything)."""
    from ..tasks import validate_version_task

    now = now or timezone.now()
    report = SweepReport()
    broker_down = OutboxMessage.objects.filter(created_at__lt=now - DRAIN_GRACE).exists()
    stuck_ids = [] if broker_down else list(_stuck_validations(now).values_list("pk", flat=True))
    for version_id in stuck_ids:
        with transaction.atomic():
            version = _stuck_validations(now).select_for_update().filter(pk=version_id).first()
            if version is None:
                continue
            died = version.validation_running_at is not None
            if died and version.validation_attempts + 1 >= MAX_VALIDATION_ATTEMPTS:
                failed = version
            else:
                version.validation_attempts += 1 if died else 0
                version.validation_started_at = now
                version.validation_running_at = None
                version.save(
                    update_fields=[
                        "validation_attempts",
                        "validation_started_at",
                        "validation_running_at",
                        "updated_at",
                    ]
                )
                enqueue_on_commit(validate_version_task, str(version.id))
                report.requeued.append(str(version.id))
                continue
        record_validation_result(
            version=failed,
            result=internal_failure(
                f"Validation did not finish after {MAX_VALIDATION_ATTEMPTS} attempts. Please retry."
            ),
        )
        report.failed.append(str(version_id))
    abandoned_before = now - timedelta(hours=settings.UPLOAD_ABANDONED_HOURS)
    for version in AppVersion.objects.filter(status=VersionStatus.UPLOADING, created_at__lt=abandoned_before):
        version_delete(version=version, actor=None)
        report.abandoned.append(str(version.id))
    return report
