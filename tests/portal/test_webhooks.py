"""Webhooks in the portal (SPEC §9, issue 15): add one (the secret shown once, with a copy button), the
service's refusals on the form (the SSRF guard, events, secret, the per-developer limit), ping, delete, and
each delivery with its status and attempts. Receivers are real HTTP servers on 127.0.0.1."""

import html
import re

import pytest
from django.urls import reverse

from apps.models import Webhook, WebhookDelivery
from apps.webhooks.secrets import secret_decrypt
from apps.webhooks.services import MAX_WEBHOOKS_PER_OWNER, webhook_create, webhook_ping
from tests.apps.webhook_receivers import receiver, receiver_factory  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db
PUBLIC_URL = "https://hooks.example.com/mosis"


def text(response) -> str:
    """What the page reads as: tags dropped, whitespace collapsed, entities decoded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def add(browser, **fields):
    return browser.post(
        reverse("portal:webhooks"),
        {"url": PUBLIC_URL, "events": ["version.published", "crash.new"], **fields},
    )


def test_adding_a_webhook_shows_its_secret_once(browser, user):
    response = add(browser)
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    raw = response.content.decode()
    secret = raw.split('id="new-secret" class="mono" type="text" value="')[1].split('"')[0]
    webhook = Webhook.objects.get(owner=user)
    assert secret.startswith("whsec_") and secret_decrypt(webhook.secret_encrypted) == secret
    assert webhook.events == ["version.published", "crash.new"]
    assert 'data-copy-target="new-secret"' in raw
    assert "shown this once" in text(response)
    later = browser.get(reverse("portal:webhooks"))
    assert secret not in later.content.decode()
    assert PUBLIC_URL in text(later) and "Your webhooks (1 of at most 20)" in text(later)


def test_a_secret_of_ones_own_is_kept(browser, user):
    response = add(browser, secret="a-secret-of-my-own-1")
    assert response.status_code == 201
    assert 'value="a-secret-of-my-own-1"' in response.content.decode()
    assert secret_decrypt(Webhook.objects.get(owner=user).secret_encrypted) == "a-secret-of-my-own-1"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"url": ""}, "url", "This field may not be blank."),
        ({"url": "http://hooks.example.com/"}, "url", "https"),
        ({"url": "https://169.254.169.254/latest/meta-data"}, "url", "not a public address"),
        ({"url": "https://localhost/hook"}, "url", "localhost"),
        ({"events": []}, "events", "at least 1"),
        ({"events": ["version.deleted"]}, "events", "is not a valid choice"),
        ({"secret": "short"}, "secret", "at least 16 characters"),
    ],
)
def test_what_the_service_refuses_is_shown_next_to_its_field(browser, user, fields, field, message):
    response = add(browser, **fields)
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    errors = re.search(rf'<ul class="errors" id="id_{field}_errors">(.*?)</ul>', page, re.S).group(1)
    assert message.lower() in errors.lower(), errors
    assert not Webhook.objects.exists()


def test_the_limit_per_developer_is_shown_on_the_form(browser, user):
    for i in range(MAX_WEBHOOKS_PER_OWNER):
        webhook_create(owner=user, url=f"{PUBLIC_URL}/{i}", events=["crash.new"])
    response = add(browser)
    assert response.status_code == 400
    assert f"You already have {MAX_WEBHOOKS_PER_OWNER} webhooks; delete one first." in text(response)


@pytest.mark.django_db(transaction=True)
def test_a_ping_is_delivered_and_shown_with_its_attempt(browser, user, receiver, settings):  # noqa: F811
    settings.WEBHOOK_ALLOW_PRIVATE = True
    webhook, _ = webhook_create(owner=user, url=receiver.url, events=["crash.new"])
    response = browser.post(reverse("portal:webhook-ping", args=[webhook.pk]), follow=True)
    assert "The ping was delivered" in text(response)
    assert len(receiver.requests) == 1
    assert receiver.requests[0].headers["X-Mosis-Event"] == "ping"
    page = text(response)
    assert "Deliveries (1)" in page
    assert re.search(r"ping Delivered [\d-]+ [\d:]+ · 1 attempt Last answer: HTTP 200", page)

    receiver.status = 500
    receiver.body = b"receiver broke"
    response = browser.post(reverse("portal:webhook-ping", args=[webhook.pk]), follow=True)
    page = text(response)
    assert "The ping failed:" in page
    assert re.search(r"ping Failed [\d-]+ [\d:]+ · 1 attempt Last answer: HTTP 500", page)
    assert "receiver broke" in page


def test_a_ping_waiting_for_a_worker_says_so(browser, user):
    webhook, _ = webhook_create(owner=user, url=PUBLIC_URL, events=["crash.new"])
    response = browser.post(reverse("portal:webhook-ping", args=[webhook.pk]), follow=True)
    assert "A ping is on its way" in text(response)  # in a test, after-commit work waits for the commit
    assert re.search(
        r"ping Pending [\d-]+ [\d:]+ · 0 attempts · next try [\d:]+ Not sent yet", text(response)
    )
    assert WebhookDelivery.objects.filter(webhook=webhook, event="ping").count() == 1


def test_a_disabled_webhook_says_why_and_how_to_enable_it(browser, user):
    webhook, _ = webhook_create(owner=user, url=PUBLIC_URL, events=["crash.new"])
    Webhook.objects.filter(pk=webhook.pk).update(is_active=False, disabled_reason="Failing since yesterday.")
    page = text(browser.get(reverse("portal:webhook", args=[webhook.pk])))
    assert "Disabled" in page and "Failing since yesterday." in page
    assert "a delivered ping enables the webhook again" in page


def test_deleting_a_webhook_removes_it_and_its_deliveries(browser, user):
    webhook, _ = webhook_create(owner=user, url=PUBLIC_URL, events=["crash.new"])
    webhook_ping(webhook=webhook, actor=user)
    response = browser.post(reverse("portal:webhook-delete", args=[webhook.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("portal:webhooks")
    assert f"The webhook to {PUBLIC_URL} was deleted with its deliveries." in text(response)
    assert not Webhook.objects.exists() and not WebhookDelivery.objects.exists()


def test_the_portal_navigation_links_to_webhooks(browser):
    page = browser.get(reverse("portal:dashboard")).content.decode()
    assert f'href="{reverse("portal:webhooks")}"' in page


def test_the_page_says_how_to_check_a_delivery(browser, settings):
    settings.WEBHOOK_TIMEOUT = 10.0
    page = text(browser.get(reverse("portal:webhooks")))
    assert "hex HMAC-SHA256 of <X-Mosis-Timestamp>.<raw body> with your secret" in page
    assert "Answer with a 2xx within 10 seconds." in page
    assert "12 attempts over about a day" in page
