"""Webhook deliveries (issue 14, SPEC §5–6): fired from the activity events after commit through Celery, signed,
every attempt logged, retried with backoff and jitter for about a day, the webhook disabled and its owner
emailed after a day of failures, a ping re-enabling it. Receivers are real HTTP servers on 127.0.0.1
(``WEBHOOK_ALLOW_PRIVATE`` is on here; the guard itself is tested in test_webhooks_ssrf.py)."""

import datetime as dt
import hashlib
import hmac
import json
import random

import pytest
from django.core import mail
from django.utils import timezone
from prometheus_client import REGISTRY

from apps.constants import AppStatus
from apps.models import ActivityEvent, WebhookAttempt, WebhookDelivery
from apps.services import app_set_status
from apps.tasks import webhooks_send_due
from apps.webhooks import services
from apps.webhooks.secrets import secret_decrypt, secret_encrypt, signature
from apps.webhooks.services import (
    DISABLE_AFTER,
    MAX_ATTEMPTS,
    RETRY_JITTER,
    retry_delay,
    webhook_create,
    webhook_delivery_attempt,
    webhook_ping,
)
from telemetry.services import crash_report_submit
from tests.factories import AppFactory, AppVersionFactory, community_device

pytestmark = pytest.mark.django_db
Status = WebhookDelivery.Status


@pytest.fixture(autouse=True)
def _local_receivers(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_TIMEOUT = 5.0


@pytest.fixture
def app(user):
    return AppFactory(owner=user, package_id="com.example.hooked", name="Hooked")


def hook(owner, receiver, events=("version.submitted",), secret="s" * 32):
    webhook, _ = webhook_create(owner=owner, url=receiver.url, events=list(events), secret=secret)
    return webhook


def verify(secret: str, headers: dict, body: bytes) -> bool:
    """What docs/api/webhooks.md tells a receiver to do."""
    expected = hmac.new(
        secret.encode(), headers["X-Mosis-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest("sha256=" + expected, headers["X-Mosis-Signature"])


def submit(client, version):
    return client.post(f"/v1/apps/{version.app_id}/versions/{version.pk}/submit")


def test_a_submitted_version_is_delivered_after_commit_signed(
    auth_client, user, app, receiver, django_capture_on_commit_callbacks
):
    webhook = hook(user, receiver)
    version = AppVersionFactory(app=app, status="draft", version_name="1.4.0", version_code=14)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert submit(auth_client, version).status_code == 200
    assert receiver.requests == []  # nothing leaves before the transaction commits
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.event, delivery.webhook_id) == (
        Status.PENDING,
        "version.submitted",
        webhook.pk,
    )
    for callback in callbacks:
        callback()

    [request] = receiver.requests
    assert request.path == "/hook"
    headers = request.headers
    assert headers["X-Mosis-Event"] == "version.submitted"
    assert headers["X-Mosis-Delivery"] == str(delivery.pk)
    assert headers["Content-Type"] == "application/json"
    assert abs(int(headers["X-Mosis-Timestamp"]) - timezone.now().timestamp()) < 60
    assert verify("s" * 32, headers, request.body)
    assert not verify("t" * 32, headers, request.body)
    payload = json.loads(request.body)
    event = ActivityEvent.objects.get(type="version.submitted")
    assert payload == {
        "id": str(event.pk),
        "event": "version.submitted",
        "timestamp": payload["timestamp"],
        "data": {
            "app": {
                "id": str(app.pk),
                "package_id": "com.example.hooked",
                "name": "Hooked",
                "status": "draft",
            },
            "version": {
                "id": str(version.pk),
                "version_name": "1.4.0",
                "version_code": 14,
                "status": "review",
            },
            "from": "draft",
            "to": "review",
        },
    }
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == (Status.SUCCEEDED, 1)
    attempt = delivery.attempts.get()
    assert (attempt.number, attempt.status_code, attempt.response_body, attempt.error) == (1, 200, "ok", "")


def test_the_signature_helper_matches_the_documented_recipe():
    body = b'{"event":"ping"}'
    expected = "sha256=" + hmac.new(b"k" * 20, b"1733300000." + body, hashlib.sha256).hexdigest()
    assert signature(secret="k" * 20, timestamp="1733300000", body=body) == expected


def test_every_lifecycle_event_fires_for_its_subscribers_only(
    user, other_user, staff_user, app, receiver_factory, django_capture_on_commit_callbacks
):
    from versions.services import version_publish, version_review

    everything = receiver_factory()
    published_only = receiver_factory()
    strangers = receiver_factory()
    hook(
        user, everything, events=("version.approved", "version.published", "app.status_changed", "crash.new")
    )
    hook(user, published_only, events=("version.published",))
    hook(other_user, strangers, events=("version.published", "version.approved"))
    version = AppVersionFactory(app=app, status="review")
    with django_capture_on_commit_callbacks(execute=True):
        version_review(version=version, reviewer=staff_user, decision="approve", notify=False)
    with django_capture_on_commit_callbacks(execute=True):
        version_publish(version=version, actor=user)
    device, _ = community_device()
    with django_capture_on_commit_callbacks(execute=True):
        crash_report_submit(app_id=app.pk, app_version="1.0.0", crash_type="E", message="boom", device=device)
        crash_report_submit(app_id=app.pk, app_version="1.0.0", crash_type="E", message="boom", device=device)
    with django_capture_on_commit_callbacks(execute=True):
        app_set_status(app=app, to=AppStatus.SUSPENDED, actor=staff_user, reason="malware")

    events = [r.headers["X-Mosis-Event"] for r in everything.requests]
    assert events == [
        "version.approved",
        "version.published",
        "app.status_changed",
        "crash.new",
        "app.status_changed",
    ]
    assert [r.headers["X-Mosis-Event"] for r in published_only.requests] == ["version.published"]
    assert strangers.requests == []
    crash = json.loads(everything.requests[3].body)["data"]["crash"]
    assert (crash["crash_type"], crash["message"], crash["app_version"]) == ("E", "boom", "1.0.0")
    suspended = json.loads(everything.requests[4].body)["data"]
    assert (suspended["from"], suspended["to"], suspended["reason"]) == ("published", "suspended", "malware")
    assert suspended["app"]["status"] == "suspended"


def test_a_failing_receiver_is_retried_with_backoff_and_every_attempt_is_logged(
    user, app, receiver, django_capture_on_commit_callbacks
):
    receiver.status, receiver.body = 503, b"maintenance"
    hook(user, receiver)
    version = AppVersionFactory(app=app, status="draft")
    from versions.services import version_submit

    with django_capture_on_commit_callbacks(execute=True):
        version_submit(version=version, actor=user)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempt_count, delivery.last_error) == (Status.PENDING, 1, "HTTP 503")
    wait = delivery.next_attempt_at - timezone.now()
    assert dt.timedelta(seconds=40) < wait <= dt.timedelta(seconds=75)
    attempt = delivery.attempts.get()
    assert (attempt.status_code, attempt.response_body, attempt.error) == (503, "maintenance", "HTTP 503")
    assert attempt.duration_ms < 5000

    assert webhook_delivery_attempt(delivery_id=delivery.pk) is None  # not due yet: nothing sent
    assert len(receiver.requests) == 1
    for number in range(2, MAX_ATTEMPTS + 1):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        webhooks_send_due.delay().get()
        delivery.refresh_from_db()
        assert delivery.attempt_count == number
    assert delivery.status == Status.FAILED and delivery.completed_at is not None
    assert len(receiver.requests) == MAX_ATTEMPTS
    assert list(delivery.attempts.values_list("number", flat=True)) == list(range(1, MAX_ATTEMPTS + 1))
    assert webhooks_send_due.delay().get() == 0


def test_the_retry_schedule_spans_about_a_day_with_jitter():
    nominal = [retry_delay(n, rng=_Fixed(0.5)) for n in range(1, MAX_ATTEMPTS)]
    assert nominal[:3] == [dt.timedelta(minutes=1), dt.timedelta(minutes=2), dt.timedelta(minutes=4)]
    assert nominal[-1] == dt.timedelta(hours=8)
    assert dt.timedelta(hours=23) <= sum(nominal, dt.timedelta()) <= dt.timedelta(hours=26)
    rng = random.Random(7)
    for n in range(1, MAX_ATTEMPTS):
        for _ in range(50):
            delay = retry_delay(n, rng=rng)
            assert nominal[n - 1] * (1 - RETRY_JITTER) <= delay <= nominal[n - 1] * (1 + RETRY_JITTER)
    draws = {retry_delay(3, rng=rng) for _ in range(20)}
    assert len(draws) > 10  # jittered, not one fixed delay


class _Fixed(random.Random):
    def __init__(self, fraction):
        super().__init__()
        self.fraction = fraction

    def uniform(self, a, b):
        return a + (b - a) * self.fraction


def test_a_webhook_failing_for_a_day_is_disabled_and_its_owner_emailed(
    user, app, receiver, django_capture_on_commit_callbacks
):
    receiver.status = 500
    webhook = hook(user, receiver, events=("version.submitted", "version.published"))
    from versions.services import version_submit

    first, second = AppVersionFactory(app=app, status="draft"), AppVersionFactory(app=app, status="draft")
    with django_capture_on_commit_callbacks(execute=True):
        version_submit(version=first, actor=user)
    webhook.refresh_from_db()
    assert webhook.is_active and webhook.failing_since is not None
    type(webhook).objects.filter(pk=webhook.pk).update(failing_since=timezone.now() - DISABLE_AFTER)
    with django_capture_on_commit_callbacks(execute=True):
        version_submit(version=second, actor=user)

    webhook.refresh_from_db()
    assert not webhook.is_active and webhook.disabled_at is not None
    assert "last error: HTTP 500" in webhook.disabled_reason
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {Status.FAILED}
    [email] = mail.outbox
    assert email.to == [user.email]
    assert receiver.url in email.subject
    assert f"/v1/webhooks/{webhook.pk}/ping" in email.body
    assert ActivityEvent.objects.filter(type="webhook.disabled").count() == 1

    requests_before = len(receiver.requests)
    with django_capture_on_commit_callbacks(execute=True):
        app_set_status(app=app, to=AppStatus.PUBLISHED, actor=None, system=True)
    assert len(receiver.requests) == requests_before  # a disabled webhook gets nothing new


def test_a_successful_ping_enables_a_disabled_webhook(user, receiver, django_capture_on_commit_callbacks):
    webhook = hook(user, receiver)
    type(webhook).objects.filter(pk=webhook.pk).update(
        is_active=False, disabled_at=timezone.now(), disabled_reason="x", failing_since=timezone.now()
    )
    webhook.refresh_from_db()
    receiver.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        failed = webhook_ping(webhook=webhook)
    failed.refresh_from_db()
    assert failed.status == Status.FAILED and failed.attempt_count == 1  # a ping is never retried
    webhook.refresh_from_db()
    assert not webhook.is_active
    receiver.status = 204
    with django_capture_on_commit_callbacks(execute=True):
        ping = webhook_ping(webhook=webhook)
    ping.refresh_from_db()
    assert ping.status == Status.SUCCEEDED
    webhook.refresh_from_db()
    assert webhook.is_active and webhook.disabled_at is None and webhook.failing_since is None
    payload = json.loads(receiver.requests[-1].body)
    assert payload["event"] == "ping" and payload["data"]["webhook_id"] == str(webhook.pk)
    assert ActivityEvent.objects.filter(type="webhook.enabled").count() == 1


def test_a_delivery_is_sent_by_one_worker_at_a_time(user, receiver):
    webhook = hook(user, receiver)
    delivery = WebhookDelivery.objects.create(
        webhook=webhook, event="ping", payload={"event": "ping"}, next_attempt_at=timezone.now()
    )
    assert services._claim(delivery.pk) is True
    assert services._claim(delivery.pk) is False  # leased
    assert webhook_delivery_attempt(delivery_id=delivery.pk) is None
    assert receiver.requests == []
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        lease_until=timezone.now() - dt.timedelta(seconds=1)
    )
    assert webhook_delivery_attempt(delivery_id=delivery.pk).status == Status.SUCCEEDED
    assert len(receiver.requests) == 1


def test_a_broker_outage_at_commit_loses_nothing(
    user, app, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    from apps import tasks
    from versions.services import version_submit

    hook(user, receiver)
    version = AppVersionFactory(app=app, status="draft")

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.webhook_deliver, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        version_submit(version=version, actor=user)
    assert version.status == "review"  # the change itself succeeded
    assert receiver.requests == []
    monkeypatch.undo()
    assert webhooks_send_due.delay().get() == 1  # beat's sweep sends it
    assert WebhookDelivery.objects.get().status == Status.SUCCEEDED
    assert len(receiver.requests) == 1


def test_a_webhook_deleted_while_its_delivery_is_queued_is_skipped(user, receiver):
    webhook = hook(user, receiver)
    delivery = WebhookDelivery.objects.create(
        webhook=webhook, event="ping", payload={}, next_attempt_at=timezone.now()
    )
    webhook.delete()
    assert webhook_delivery_attempt(delivery_id=delivery.pk) is None
    assert receiver.requests == []


def test_secrets_are_encrypted_at_rest_and_survive_a_secret_key_rotation(user, receiver, settings):
    webhook = hook(user, receiver, secret="my-webhook-secret-123")
    assert "my-webhook-secret-123" not in webhook.secret_encrypted
    assert secret_decrypt(webhook.secret_encrypted) == "my-webhook-secret-123"
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-for-the-store-0123456789"
    settings.SECRET_KEY_FALLBACKS = [old]
    assert secret_decrypt(webhook.secret_encrypted) == "my-webhook-secret-123"
    assert secret_decrypt(secret_encrypt("x" * 16)) == "x" * 16


def test_a_secret_that_cannot_be_decrypted_is_an_attempt_that_sends_nothing(user, receiver, settings):
    webhook = hook(user, receiver)
    settings.SECRET_KEY = "a-new-secret-key-for-the-store-0123456789"
    settings.SECRET_KEY_FALLBACKS = []
    delivery = WebhookDelivery.objects.create(
        webhook=webhook, event="ping", payload={}, next_attempt_at=timezone.now()
    )
    result = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert result.status == Status.FAILED
    assert "cannot be decrypted" in WebhookAttempt.objects.get().error
    assert receiver.requests == []


def test_deliveries_are_counted_in_prometheus(user, receiver, django_capture_on_commit_callbacks):
    def value(outcome):
        return REGISTRY.get_sample_value("mosis_webhook_attempts_total", {"outcome": outcome}) or 0

    success, failure = value("success"), value("http_error")
    webhook = hook(user, receiver)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_ping(webhook=webhook)
    receiver.status = 418
    with django_capture_on_commit_callbacks(execute=True):
        webhook_ping(webhook=webhook)
    assert (value("success"), value("http_error")) == (success + 1, failure + 1)
    assert REGISTRY.get_sample_value("mosis_webhook_attempt_seconds_count") >= 2
