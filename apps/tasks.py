"""Celery tasks of the apps app: webhook deliveries. Tasks take ids, re-fetch and call one service (STYLE §4)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from .webhooks.services import webhook_deliveries_due, webhook_delivery_attempt


@shared_task(
    acks_late=True,
    time_limit=int(settings.WEBHOOK_TIMEOUT) + 60,
    soft_time_limit=int(settings.WEBHOOK_TIMEOUT) + 30,
)
def webhook_deliver(delivery_id: str) -> str | None:
    """Make the next attempt of one delivery. Idempotent: a no-op unless the delivery is pending, due and
    unclaimed, so a redelivered or duplicated message sends nothing twice at once. Retries are not Celery
    retries: the attempt schedules ``next_attempt_at`` and the sweep below sends it when due."""
    delivery = webhook_delivery_attempt(delivery_id=delivery_id)
    return delivery.status if delivery is not None else None


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def webhooks_send_due() -> int:
    """Beat task (every minute): hand every due, unclaimed pending delivery to a worker (retries, and
    deliveries whose first hand-off to the broker failed). Returns how many were queued."""
    due = webhook_deliveries_due()
    for delivery_id in due:
        webhook_deliver.delay(str(delivery_id))
    return len(due)
