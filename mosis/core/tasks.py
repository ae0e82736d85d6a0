"""Task plumbing: a task is owed from the moment the transaction that needs it commits (a transactional
outbox), and sent only after that commit (addons-server style), so a worker never sees an id whose row is not
there yet — and a broker that is down at that moment loses nothing.

``enqueue_on_commit`` writes an ``OutboxMessage`` row inside the caller's transaction and, once it commits,
sends the task and deletes the row. When the broker refuses (down, unreachable), the row stays and
``outbox_drain`` (every 30 seconds from beat) sends it later: at-least-once delivery, which every task here
tolerates because tasks are idempotent (STYLE §4).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from .models import OutboxMessage

logger = logging.getLogger("mosis.tasks")

# A message younger than this is left to the request that wrote it (its on-commit send may be under way).
DRAIN_GRACE = timedelta(seconds=10)
DRAIN_BATCH = 500
LAST_ERROR_LENGTH = 500


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Owe ``task(*args, **kwargs)`` with the current transaction, and send it once that commits.

    Arguments must be JSON (ids and plain values, STYLE §4). Outside a transaction the row is written and the
    task sent at once.
    """
    message = OutboxMessage.objects.create(
        task_name=task.name, args=list(args), kwargs=kwargs, created_at=timezone.now()
    )
    transaction.on_commit(lambda: _send(message))


def _send(message: OutboxMessage) -> bool:
    """Hand ``message`` to the broker and delete its row; False (the row kept, the error noted) when the
    broker refuses. When tasks run in-process (eager) the row goes first, so a task that raises is not
    replayed by the drain: its caller sees the exception, as it would without an outbox."""
    from mosis.celery import app  # the project's app: its registry's tasks are bound to it

    task = app.tasks[message.task_name]
    if app.conf.task_always_eager:
        OutboxMessage.objects.filter(pk=message.pk).delete()
        task.apply_async(args=message.args, kwargs=message.kwargs)
        return True
    try:
        task.apply_async(args=message.args, kwargs=message.kwargs, retry=False)
    except Exception as exc:  # noqa: BLE001 - any broker failure: the drain sends it later
        logger.warning("broker refused %s; it stays in the outbox: %s", message.task_name, exc)
        OutboxMessage.objects.filter(pk=message.pk).update(
            attempts=message.attempts + 1, last_error=str(exc)[:LAST_ERROR_LENGTH]
        )
        return False
    OutboxMessage.objects.filter(pk=message.pk).delete()
    return True


def outbox_send_pending(*, older_than: timedelta = DRAIN_GRACE, limit: int = DRAIN_BATCH) -> int:
    """Send what the outbox still owes (oldest first); returns how many were sent. Stops at the first
    refusal: the broker is still down, the rest waits for the next run."""
    cutoff = timezone.now() - older_than
    sent = 0
    for message in OutboxMessage.objects.filter(created_at__lte=cutoff).order_by("created_at", "pk")[:limit]:
        if not _send(message):
            break
        sent += 1
    return sent


@shared_task(acks_late=True, time_limit=120, soft_time_limit=110, ignore_result=True)
def outbox_drain() -> int:
    """Beat task (every 30 seconds): send the tasks whose on-commit send the broker refused."""
    return outbox_send_pending()
