"""Package diff services: what changed in a version's package since the app's last published version.

``package_diff_request`` marks a version's diff pending and enqueues ``versions.tasks.package_diff_task``
after commit (validation does it for every package that passes; the review page does it on demand).
``package_diff_compute`` is the task's body: it reads both packages through ``mosis.core.storage`` by their
``package_key`` and ``mosis_package.diff.diff_packages`` (the strict ZIP reader, nothing extracted),
then stores the result file by file. Nothing here runs in a web request but the request.
"""

from __future__ import annotations

import logging
import time
from contextlib import ExitStack
from itertools import islice

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mosis.core import storage
from mosis.core.storage import STORAGE_ERRORS, StorageUnavailable
from mosis.core.tasks import enqueue_on_commit
from mosis_package import Limits
from mosis_package.diff import ADDED, CHANGED, REMOVED, PackageDiffResult, diff_packages, manifest_changes

from ..constants import DIFFABLE_STATUSES, DiffStatus
from ..models import AppVersion, PackageDiff, PackageDiffFile

logger = logging.getLogger("mosis.versions.diff")

FILE_ROWS_BATCH = 500
PATH_MAX = PackageDiffFile._meta.get_field("path").max_length
NOTE_MAX = PackageDiffFile._meta.get_field("note").max_length


def package_diff_request(*, version: AppVersion) -> PackageDiff:
    """Mark ``version``'s diff pending and enqueue its computation after commit. Idempotent: asking again
    re-queues (a worker that finds the stored diff still current leaves it alone)."""
    from ..tasks import package_diff_task

    now = timezone.now()
    with transaction.atomic():
        diff, created = PackageDiff.objects.get_or_create(
            version=version, defaults={"status": DiffStatus.PENDING, "requested_at": now}
        )
        if not created:
            PackageDiff.objects.filter(pk=diff.pk).update(
                status=DiffStatus.PENDING, requested_at=now, error="", updated_at=now
            )
            diff.status, diff.requested_at, diff.error = DiffStatus.PENDING, now, ""
        enqueue_on_commit(package_diff_task, str(version.pk))
    return diff


def package_diff_compute(*, version_id, final_attempt: bool = True) -> PackageDiff | None:
    """Compute and store the diff of ``version_id`` against its app's last published version.

    A no-op (returns the stored diff, or None) for a missing version, one whose status is not in
    ``DIFFABLE_STATUSES``, or one whose stored diff is ready and against the current base. A storage failure
    raises ``StorageUnavailable`` for the task to retry unless ``final_attempt``; every other failure (an
    archive the reader refuses, a bug) ends ``failed`` with a message the reviewer sees. Never changes the
    version itself.
    """
    from .. import selectors

    version = AppVersion.objects.select_related("app").filter(pk=version_id).first()
    if version is None:
        return None
    existing = PackageDiff.objects.filter(version=version).first()
    if version.status not in DIFFABLE_STATUSES:
        return existing
    base = selectors.last_published_version(version=version)
    base_id = base.pk if base is not None else None
    if existing is not None and existing.status == DiffStatus.READY and existing.base_version_id == base_id:
        return existing
    diff, _ = PackageDiff.objects.get_or_create(version=version, defaults={"requested_at": timezone.now()})
    PackageDiff.objects.filter(pk=diff.pk).update(
        status=DiffStatus.RUNNING, base_version=base, updated_at=timezone.now()
    )
    started = time.monotonic()
    try:
        with ExitStack() as stack:
            new_path = stack.enter_context(storage.local_copy(version.package_key))
            old_path = stack.enter_context(storage.local_copy(base.package_key)) if base else None
            result = diff_packages(
                old_path, new_path, limits=Limits(max_package_size=settings.MAX_PACKAGE_SIZE)
            )
    except STORAGE_ERRORS as exc:
        logger.warning("package diff of version %s: storage unreadable: %s", version_id, exc)
        if not final_attempt:
            raise StorageUnavailable(str(exc)) from exc
        result = PackageDiffResult(error="A package could not be read from storage. Recompute to retry.")
    except Exception:  # the reviewer sees a failed diff with a retry button, never a crashed worker loop
        logger.exception("package diff of version %s failed unexpectedly", version_id)
        result = PackageDiffResult(error="The diff failed unexpectedly. Recompute to retry.")
    elapsed_ms = int((time.monotonic() - started) * 1000)
    return _store(diff=diff, version=version, base=base, result=result, elapsed_ms=elapsed_ms)


def _store(
    *, diff: PackageDiff, version: AppVersion, base: AppVersion | None, result: PackageDiffResult, elapsed_ms
) -> PackageDiff:
    """Replace the stored rows of ``diff`` with ``result`` in one transaction (batched inserts)."""
    now = timezone.now()
    with transaction.atomic():
        locked = PackageDiff.objects.select_for_update().get(pk=diff.pk)
        locked.files.all().delete()
        fields = {
            "base_version": base,
            "computed_at": now,
            "duration_ms": elapsed_ms,
            "manifest_changes": manifest_changes(base.manifest if base else None, version.manifest),
        }
        if result.error:
            fields.update(
                status=DiffStatus.FAILED,
                error=result.error,
                files_added=0,
                files_removed=0,
                files_changed=0,
                files_unchanged=0,
                old_uncompressed=0,
                new_uncompressed=0,
            )
        else:
            fields.update(
                status=DiffStatus.READY,
                error="",
                files_added=result.count(ADDED),
                files_removed=result.count(REMOVED),
                files_changed=result.count(CHANGED),
                files_unchanged=result.unchanged,
                old_uncompressed=result.old_uncompressed,
                new_uncompressed=result.new_uncompressed,
            )
            rows = (
                PackageDiffFile(
                    diff=locked,
                    position=position,
                    path=_clip(item.path, PATH_MAX),
                    change=item.change,
                    kind=item.kind,
                    old_size=item.old_size,
                    new_size=item.new_size,
                    old_sha256=item.old_sha256,
                    new_sha256=item.new_sha256,
                    diff_text=item.diff,
                    diff_truncated=item.truncated,
                    note=_clip(item.note, NOTE_MAX),
                )
                for position, item in enumerate(result.files)
            )
            while batch := list(islice(rows, FILE_ROWS_BATCH)):  # a batch of model objects at a time
                PackageDiffFile.objects.bulk_create(batch)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save(update_fields=[*fields, "updated_at"])
    return locked


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
