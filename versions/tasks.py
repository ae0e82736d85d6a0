"""Celery tasks of the versions app. Tasks take ids, re-fetch and call one service (STYLE §4)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from .services import StorageUnavailable, version_validate, versions_sweep

VALIDATION_MAX_RETRIES = 5


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
    max_retries=VALIDATION_MAX_RETRIES,
)
def validate_version_task(self, version_id: str) -> str | None:
    """Validate the package of version ``version_id`` and move it to ``draft`` or ``rejected``.

    Idempotent (a no-op unless the version is ``validating``), so a redelivery after a worker died
    (``acks_late`` + ``reject_on_worker_lost``) or a duplicate from the sweeper is harmless. Storage errors
    are retried with exponential backoff; the last attempt fails closed (rejected, ``INTERNAL``). A validator
    crash or soft time limit also ends ``rejected`` with ``INTERNAL``: nothing unexpected lets a package in.
    """
    # Run in-process (embedded mode, eager with propagation) there is no broker to retry through: the first
    # attempt is the last, and the developer retries with upload-complete.
    in_process = self.request.is_eager and self.app.conf.task_eager_propagates
    version = version_validate(
        version_id=version_id, final_attempt=in_process or self.request.retries >= VALIDATION_MAX_RETRIES
    )
    return version.status if version is not None else None


@shared_task(acks_late=True, time_limit=300, soft_time_limit=270)
def sweep_uploads_task() -> dict:
    """Beat task (every 5 minutes): stuck validations back to the queue, abandoned uploads deleted."""
    report = versions_sweep()
    return {"requeued": report.requeued, "failed": report.failed, "abandoned": report.abandoned}
