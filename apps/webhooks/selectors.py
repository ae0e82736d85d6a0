"""Webhook reads shared by the API, the admin and the portal (callers authorise through ``apps.policies``)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from ..models import Webhook, WebhookAttempt, WebhookDelivery


def webhooks_for_owner(*, owner) -> QuerySet[Webhook]:
    """``owner``'s webhooks, newest first (read through the (owner, created_at) index)."""
    return Webhook.objects.filter(owner=owner).order_by("-created_at", "-id")


def webhook_deliveries(*, webhook: Webhook) -> QuerySet[WebhookDelivery]:
    """A webhook's deliveries, newest first, each with its attempts (``delivery.attempts.all()``, in order;
    one query per page)."""
    return (
        WebhookDelivery.objects.filter(webhook=webhook)
        .prefetch_related(Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("number")))
        .order_by("-created_at", "-id")
    )
