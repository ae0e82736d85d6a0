"""App services. ``activity_record`` is the one way to write the audit trail / ``/v1/events`` feed."""

from __future__ import annotations

import uuid

from django.utils import timezone

from .models import ActivityEvent


def activity_record(
    *, type: str, app=None, version=None, actor=None, data: dict | None = None
) -> ActivityEvent:
    """Append one activity event (call inside the transaction of the change it records)."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return ActivityEvent.objects.create(
        id=uuid.uuid4(),
        type=type,
        app=app if app is not None else (version.app if version is not None else None),
        version=version,
        actor=actor,
        data=data or {},
        created_at=timezone.now(),
    )
