"""Webhook services (writes): create, delete, ping; fire from activity events; deliver with retries.

Firing: ``apps.services.activity_record`` calls ``webhook_event_fire`` for every activity event, inside the
transaction of the change it records. For the webhook event types (``WebhookEvent``) it writes one
``WebhookDelivery`` per subscribed, active webhook of the app's owner (with the body fixed then), and after
commit sends each to Celery (``apps.tasks.webhook_deliver``). The rows commit with the change, so a broker
outage loses nothing: the retry sweep (beat, every minute) sends every pending delivery that is due.

Delivering (``webhook_delivery_attempt``): claim the delivery with a lease (one worker at a time), sign and
send it through the SSRF guard (``transport``), log the attempt, then finish it or schedule the next
attempt with exponential backoff and jitter: ``MAX_ATTEMPTS`` attempts over about a day. A webhook whose
deliveries have failed for ``DISABLE_AFTER`` is disabled and its owner emailed; a successful ping enables it
again.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
import uuid

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from mosis.core.errors import ApplicationError, ErrorCode
from mosis.core.siteurl import absolute_url

from .. import metrics
from ..constants import WEBHOOK_PING_EVENT, WebhookEvent
from ..models import Webhook, WebhookAttempt, WebhookDelivery
from . import transport
from .addresses import AddressRefused, url_target
from .payloads import event_payload, payload_body, ping_payload
from .secrets import SecretUnavailable, secret_decrypt, secret_encrypt, secret_generate, signature

logger = logging.getLogger("mosis.webhooks")

MAX_WEBHOOKS_PER_OWNER = 20
SECRET_MIN_LENGTH = 16
SECRET_MAX_LENGTH = 200
MAX_ATTEMPTS = 12
RETRY_BASE = dt.timedelta(minutes=1)
RETRY_CAP = dt.timedelta(hours=8)
RETRY_JITTER = 0.25  # each delay is drawn from ±25 % of its nominal value
DISABLE_AFTER = dt.timedelta(hours=24)
DUE_BATCH = 500
USER_AGENT = f"MosisStore-Webhooks/{settings.MOSIS_VERSION}"
Status = WebhookDelivery.Status


def retry_delay(failed_attempts: int, *, rng: random.Random | None = None) -> dt.timedelta:
    """How long after its ``failed_attempts``-th failure a delivery is tried again: 1 min doubling up to
    8 h, ±25 % jitter so receivers coming back are not hit by every store worker at once. With
    ``MAX_ATTEMPTS`` = 12 the last attempt comes ~24.5 h after the first (1+2+4+…+256+480+480 min)."""
    nominal = min(RETRY_BASE * 2 ** (failed_attempts - 1), RETRY_CAP)
    return nominal * (rng or random).uniform(1 - RETRY_JITTER, 1 + RETRY_JITTER)


def lease_duration() -> dt.timedelta:
    """How long a claimed delivery is reserved: longer than any attempt can take."""
    return dt.timedelta(seconds=settings.WEBHOOK_TIMEOUT + 60)


# --- create / delete / ping ---------------------------------------------------------------------------------


def _validation_error(field: str, message: str) -> ApplicationError:
    return ApplicationError(ErrorCode.VALIDATION_ERROR, f"{field}: {message}", {field: [message]})


def webhook_create(*, owner, url: str, events: list[str], secret: str | None = None) -> tuple[Webhook, str]:
    """Register a webhook for ``owner``'s apps; returns it with its secret (shown only now).

    ``url`` must pass the SSRF guard's URL check (https, no credentials, no non-public literal address);
    ``events`` a non-empty list of ``WebhookEvent`` values; ``secret`` (optional, 16–200 printable
    characters) is generated when absent. At most ``MAX_WEBHOOKS_PER_OWNER`` webhooks per developer (409).
    """
    try:
        url_target(url)
    except AddressRefused as refusal:
        raise _validation_error("url", str(refusal))
    unknown = sorted({name for name in events if name not in WebhookEvent.values})
    if not events or unknown:
        raise _validation_error(
            "events",
            (f"Unknown event(s): {', '.join(map(str, unknown))}. " if unknown else "At least one event. ")
            + f"Known: {', '.join(WebhookEvent.values)}.",
        )
    if secret is not None and not (
        SECRET_MIN_LENGTH <= len(secret) <= SECRET_MAX_LENGTH and secret.isprintable() and secret.isascii()
    ):
        raise _validation_error(
            "secret", f"{SECRET_MIN_LENGTH}-{SECRET_MAX_LENGTH} printable ASCII characters (or omit it)."
        )
    secret = secret or secret_generate()
    from accounts.models import User

    with transaction.atomic():
        User.objects.select_for_update().filter(pk=owner.pk).first()  # serialises the count below
        if Webhook.objects.filter(owner=owner).count() >= MAX_WEBHOOKS_PER_OWNER:
            raise ApplicationError(
                ErrorCode.CONFLICT,
                f"You already have {MAX_WEBHOOKS_PER_OWNER} webhooks; delete one first.",
            )
        webhook = Webhook.objects.create(
            owner=owner,
            url=url,
            events=[name for name in WebhookEvent.values if name in events],
            secret_encrypted=secret_encrypt(secret),
        )
        _audit("webhook.created", webhook=webhook, actor=owner)
    return webhook, secret


def webhook_delete(*, webhook: Webhook, actor) -> None:
    """Delete a webhook with its deliveries and their attempts."""
    with transaction.atomic():
        _audit("webhook.deleted", webhook=webhook, actor=actor)
        webhook.delete()


def webhook_ping(*, webhook: Webhook, actor=None) -> WebhookDelivery:
    """Send a ``ping`` event now (also to a disabled webhook: a successful ping enables it again). A ping is
    attempted once, never retried. Returns its delivery as it stands when this returns (pending, unless the
    task ran in-process)."""
    with transaction.atomic():
        delivery_id = uuid.uuid4()
        delivery = WebhookDelivery.objects.create(
            id=delivery_id,
            webhook=webhook,
            event=WEBHOOK_PING_EVENT,
            payload=ping_payload(webhook=webhook, delivery_id=delivery_id),
            next_attempt_at=timezone.now(),
        )
        _send_after_commit([delivery.pk])
    delivery.refresh_from_db()
    return delivery


def _audit(type: str, *, webhook: Webhook, actor=None, **data) -> None:
    from ..services import activity_record

    activity_record(type=type, actor=actor, data={"webhook_id": str(webhook.pk), "url": webhook.url, **data})


# --- firing -----------------------------------------------------------------------------------------------


def webhook_event_fire(*, event) -> list[WebhookDelivery]:
    """Queue ``event`` (an ActivityEvent, just written) for every active webhook of its app's owner that
    subscribes to its type. Call inside the transaction that wrote it; deliveries are sent after commit."""
    if event.type not in WebhookEvent.values or event.app_id is None:
        return []
    app = event.app
    hooks = [
        webhook
        for webhook in Webhook.objects.filter(owner_id=app.owner_id, is_active=True).only("id", "events")
        if event.type in webhook.events
    ]
    if not hooks:
        return []
    payload = event_payload(event=event, app=app, version=event.version if event.version_id else None)
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                webhook=webhook, event=event.type, activity_event=event, payload=payload, next_attempt_at=now
            )
            for webhook in hooks
        ]
    )
    _send_after_commit([delivery.pk for delivery in deliveries])
    return deliveries


def _send_after_commit(delivery_ids: list) -> None:
    def send():
        from ..tasks import webhook_deliver

        for delivery_id in delivery_ids:
            try:
                webhook_deliver.delay(str(delivery_id))
            except Exception:  # broker down (or, in-process, anything): the retry sweep sends it later
                logger.exception("could not hand webhook delivery %s to Celery", delivery_id)

    transaction.on_commit(send)


# --- delivering ---------------------------------------------------------------------------------------------


def _claim(delivery_id) -> bool:
    now = timezone.now()
    return bool(
        WebhookDelivery.objects.filter(pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + lease_duration())
    )


def delivery_headers(*, delivery: WebhookDelivery, secret: str, body: bytes, timestamp: str) -> dict:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Mosis-Event": delivery.event,
        "X-Mosis-Delivery": str(delivery.pk),
        "X-Mosis-Timestamp": timestamp,
        "X-Mosis-Signature": signature(secret=secret, timestamp=timestamp, body=body),
    }


def webhook_delivery_attempt(*, delivery_id) -> WebhookDelivery | None:
    """Make the next attempt of a pending, due delivery (None if it is not pending, not due or another
    worker holds it). Never raises for what the receiver or the network does; idempotent per lease."""
    if not _claim(delivery_id):
        return None
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None:  # the webhook was deleted meanwhile
        return None
    webhook = delivery.webhook
    is_ping = delivery.event == WEBHOOK_PING_EVENT
    if not webhook.is_active and not is_ping:
        with transaction.atomic():
            _finish_failed(WebhookDelivery.objects.filter(pk=delivery_id), "the webhook is disabled")
        delivery.refresh_from_db()
        return delivery
    started_at = timezone.now()
    try:
        secret = secret_decrypt(webhook.secret_encrypted)
    except SecretUnavailable as error:
        result = transport.SendResult("refused", None, 0, "", str(error))
    else:
        body = payload_body(delivery.payload)
        headers = delivery_headers(
            delivery=delivery, secret=secret, body=body, timestamp=str(int(time.time()))
        )
        result = transport.send(url=webhook.url, body=body, headers=headers)
    metrics.WEBHOOK_ATTEMPTS.labels(outcome=result.outcome).inc()
    metrics.WEBHOOK_ATTEMPT_SECONDS.observe(result.duration_ms / 1000)
    return _record_attempt(delivery_id=delivery_id, result=result, started_at=started_at, is_ping=is_ping)


def _finish_failed(deliveries, error: str) -> int:
    count = deliveries.filter(status=Status.PENDING).update(
        status=Status.FAILED,
        completed_at=timezone.now(),
        next_attempt_at=None,
        lease_until=None,
        last_error=error,
    )
    if count:
        metrics.WEBHOOK_DELIVERIES_FINISHED.labels(status=Status.FAILED).inc(count)
    return count


def _record_attempt(
    *, delivery_id, result: transport.SendResult, started_at, is_ping: bool
) -> WebhookDelivery | None:
    now = timezone.now()
    with transaction.atomic():
        # Delivery, then webhook: the one lock order of this module.
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:  # the webhook was deleted while the request was out
            return None
        webhook = Webhook.objects.select_for_update().get(pk=delivery.webhook_id)
        number = delivery.attempt_count + 1
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=started_at,
            duration_ms=result.duration_ms,
            status_code=result.status_code,
            response_body=result.response_excerpt[: transport.RESPONSE_EXCERPT_BYTES],
            error=result.error[:500],
        )
        delivery.attempt_count = number
        delivery.lease_until = None
        webhook_fields = []
        if result.ok:
            delivery.status, delivery.completed_at = Status.SUCCEEDED, now
            delivery.next_attempt_at, delivery.last_error = None, ""
            webhook.failing_since, webhook.last_success_at = None, now
            webhook_fields += ["failing_since", "last_success_at"]
            if is_ping and not webhook.is_active:
                webhook.is_active, webhook.disabled_at, webhook.disabled_reason = True, None, ""
                webhook_fields += ["is_active", "disabled_at", "disabled_reason"]
                _audit("webhook.enabled", webhook=webhook, reason="a ping succeeded")
            metrics.WEBHOOK_DELIVERIES_FINISHED.labels(status=Status.SUCCEEDED).inc()
        else:
            delivery.last_error = result.error[:500]
            webhook.last_failure_at = now
            webhook_fields.append("last_failure_at")
            if webhook.is_active and webhook.failing_since is None:
                webhook.failing_since = started_at
                webhook_fields.append("failing_since")
            if is_ping or number >= MAX_ATTEMPTS:
                delivery.status, delivery.completed_at, delivery.next_attempt_at = Status.FAILED, now, None
                metrics.WEBHOOK_DELIVERIES_FINISHED.labels(status=Status.FAILED).inc()
            else:
                delivery.next_attempt_at = now + retry_delay(number)
            if webhook.is_active and webhook.failing_since and now - webhook.failing_since >= DISABLE_AFTER:
                webhook_fields += _disable(webhook, last_error=result.error, now=now)
                if delivery.status == Status.PENDING:  # failed (and counted) by _disable with the others
                    delivery.status, delivery.completed_at, delivery.next_attempt_at = (
                        Status.FAILED,
                        now,
                        None,
                    )
        delivery.save(
            update_fields=[
                "attempt_count",
                "lease_until",
                "status",
                "completed_at",
                "next_attempt_at",
                "last_error",
                "updated_at",
            ]
        )
        if webhook_fields:
            webhook.save(update_fields=[*webhook_fields, "updated_at"])
    return delivery


def _disable(webhook: Webhook, *, last_error: str, now) -> list[str]:
    """Disable a webhook that has failed for ``DISABLE_AFTER`` (inside ``_record_attempt``'s transaction):
    its pending deliveries fail, the owner is emailed after commit."""
    since = webhook.failing_since
    webhook.is_active = False
    webhook.disabled_at = now
    webhook.disabled_reason = f"Failing since {since:%Y-%m-%d %H:%M} UTC; last error: {last_error}"[:300]
    _finish_failed(
        WebhookDelivery.objects.filter(webhook=webhook).exclude(event=WEBHOOK_PING_EVENT),
        "the webhook was disabled after failing for a day",
    )
    metrics.WEBHOOKS_DISABLED.inc()
    _audit("webhook.disabled", webhook=webhook, reason=webhook.disabled_reason)
    webhook_id = webhook.pk
    transaction.on_commit(lambda: _email_owner_disabled(webhook_id=webhook_id))
    return ["is_active", "disabled_at", "disabled_reason"]


def _email_owner_disabled(*, webhook_id) -> None:
    webhook = Webhook.objects.select_related("owner").filter(pk=webhook_id).first()
    if webhook is None or not webhook.owner.email:
        return
    body = (
        f"Your webhook {webhook.url} has failed every delivery for a day and was disabled.\n\n"
        f"{webhook.disabled_reason}\n\n"
        "Its recent deliveries and each attempt's answer are listed at "
        f"{absolute_url('/portal/webhooks/')} and GET /v1/webhooks/{webhook.pk}/deliveries. Once the receiver "
        f"works again, POST /v1/webhooks/{webhook.pk}/ping: a successful ping enables the webhook again. "
        "Events that happened while it was disabled are not re-sent."
    )
    try:
        send_mail(
            subject=f"[{settings.SITE_NAME}] Webhook disabled: {webhook.url}"[:200],
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[webhook.owner.email],
        )
    except Exception:  # the change is committed; a mail outage must not undo or repeat it
        logger.exception("webhook-disabled email for %s failed", webhook_id)


def webhook_deliveries_due(*, limit: int = DUE_BATCH) -> list:
    """Ids of pending deliveries whose next attempt is due and that no worker holds, oldest due first (read
    through the partial index on pending deliveries)."""
    now = timezone.now()
    return list(
        WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
