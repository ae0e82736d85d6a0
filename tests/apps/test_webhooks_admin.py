"""Webhooks in the review console (issue 14): read-only lists of webhooks and deliveries, a ping action,
deletion through the service (audited); the secret never shown."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.utils import timezone

from apps.models import ActivityEvent, Webhook, WebhookAttempt, WebhookDelivery
from apps.webhooks.services import webhook_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_browser(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


def test_webhooks_and_deliveries_are_listed_without_the_secret(staff_browser, user):
    webhook, secret = webhook_create(owner=user, url="https://hooks.example.com/x", events=["crash.new"])
    delivery = WebhookDelivery.objects.create(
        webhook=webhook, event="crash.new", payload={"event": "crash.new"}
    )
    WebhookAttempt.objects.create(delivery=delivery, number=1, started_at=timezone.now(), status_code=502)
    for url in (
        "/admin/apps/webhook/",
        f"/admin/apps/webhook/{webhook.pk}/change/",
        "/admin/apps/webhookdelivery/",
        f"/admin/apps/webhookdelivery/{delivery.pk}/change/",
    ):
        page = staff_browser.get(url)
        assert page.status_code == 200, url
        assert secret not in page.content.decode()
        assert webhook.secret_encrypted not in page.content.decode()
    assert "502" in staff_browser.get(f"/admin/apps/webhookdelivery/{delivery.pk}/change/").content.decode()


def test_staff_can_ping_and_delete_through_the_services(staff_browser, user, receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    webhook, _ = webhook_create(owner=user, url=receiver.url, events=["crash.new"])
    data = {"action": "send_ping", ACTION_CHECKBOX_NAME: [str(webhook.pk)]}
    assert staff_browser.post("/admin/apps/webhook/", data, follow=True).status_code == 200
    assert WebhookDelivery.objects.filter(webhook=webhook, event="ping").count() == 1
    page = staff_browser.post(f"/admin/apps/webhook/{webhook.pk}/delete/", {"post": "yes"}, follow=True)
    assert page.status_code == 200
    assert not Webhook.objects.exists()
    assert ActivityEvent.objects.filter(type="webhook.deleted").count() == 1
