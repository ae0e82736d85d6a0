"""Task plumbing: tasks are enqueued only after the surrounding transaction commits (addons-server style)."""

from django.db import transaction


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Send ``task`` once the current transaction commits, so the worker sees the rows it is given ids of."""
    transaction.on_commit(lambda: task.delay(*args, **kwargs))
