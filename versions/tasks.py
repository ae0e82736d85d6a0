"""Celery tasks of the versions app. Tasks take ids, re-fetch and call one service (STYLE §4)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from .models import AppVersion
from .services import StorageUnavailable, package_diff_compute, version_validate, versions_sweep
from .services.validation import version_validation_started

VALIDATION_MAX_RETRIES = 5
DIFF_MAX_RETRIES = 5


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
    # Storage and database outages are retried: the database lost mid-validation is a retry, not a verdict.
    autoretry_for=(StorageUnavailable, OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=VALIDATION_MAX_RETRIES,
)
def validate_version_task(self, version_id: str) -> str | None:
    """Validate the package of version ``version_id`` and move it to ``draft`` or ``rejected``.

    Idempotent (a no-op unless the version is ``validating``), so a redelivery after a worker died
    (``acks_late`` + ``reject_on_worker_lost``) or a duplicate from the sweeper is harmless. It stamps
    ``validation_running_at`` first, so the sweeper can tell a lost task from a slow one. Storage errors are
    retried with exponential backoff, the last attempt failing closed (rejected, ``INTERNAL``); database
    errors (the database went away mid-validation) are retried the same way. A validator
    crash or soft time limit also ends ``rejected`` with ``INTERNAL``: nothing unexpected lets a package in.
    """
    # Run in-process (embedded mode, eager with propagation) there is no broker to retry through: the first
    # attempt is the last, and the developer retries with upload-complete.
    in_process = self.request.is_eager and self.app.conf.task_eager_propagates
    if not version_validation_started(version_id=version_id):
        # Gone, or already validated by an earlier delivery: nothing to do, the same answer as then.
        return AppVersion.objects.filter(pk=version_id).values_list("status", flat=True).first()
    version = version_validate(
        version_id=version_id, final_attempt=in_process or self.request.retries >= VALIDATION_MAX_RETRIES
    )
    return version.status if version is not None else None


@shared_task(acks_late=True, time_limit=300, soft_time_limit=270)
def sweep_uploads_task() -> dict:
    """Beat task (every minute): validations no live task works on back to the queue, abandoned uploads
    deleted."""
    report = versions_sweep()
    return {"requeued": report.requeued, "failed": report.failed, "abandoned": report.abandoned}


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
    autoretry_for=(StorageUnavailable,),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=DIFF_MAX_RETRIES,
)
def package_diff_task(self, version_id: str) -> str | None:
    """Compute and store the package diff of version ``version_id`` against its app's last published
    version (``versions.services.package_diff_compute``).

    Idempotent: a diff already ready against the current base is left alone, and a version no longer worth
    diffing is skipped, so redeliveries and duplicates are harmless. Storage errors are retried with
    backoff; the last attempt, an archive the reader refuses, or a soft time limit end the diff ``failed``
    with a message the reviewer sees (and can recompute from). The version itself is never touched.
    """
    in_process = self.request.is_eager and self.app.conf.task_eager_propagates
    diff = package_diff_compute(
        version_id=version_id, final_attempt=in_process or self.request.retries >= DIFF_MAX_RETRIES
    )
    return diff.status if diff is not None else None
