"""``/v1/webhooks`` (issue 14, SPEC §5): create (the secret shown once), list, get, delete, deliveries, ping;
owner only, scopes, limits."""

import pytest
from django.utils import timezone

from apps.models import Webhook, WebhookAttempt, WebhookDelivery
from apps.webhooks.secrets import secret_decrypt
from apps.webhooks.services import MAX_WEBHOOKS_PER_OWNER, webhook_create

pytestmark = pytest.mark.django_db
URL = "/v1/webhooks"
PUBLIC_URL = "https://hooks.example.com/mosis"


def create(client, **fields):
    body = {"url": PUBLIC_URL, "events": ["version.published", "crash.new"], **fields}
    return client.post(URL, body, format="json")


def test_creating_shows_the_secret_once(auth_client, user):
    response = create(auth_client)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["url"] == PUBLIC_URL
    assert body["events"] == ["version.published", "crash.new"]
    assert body["is_active"] is True
    webhook = Webhook.objects.get()
    assert webhook.owner == user
    assert secret_decrypt(webhook.secret_encrypted) == body["secret"]
    listed = auth_client.get(URL).json()
    assert listed["total"] == 1
    assert "secret" not in listed["webhooks"][0]
    assert "secret" not in auth_client.get(f"{URL}/{webhook.pk}").json()
    assert body["secret"] not in auth_client.get(URL).content.decode()


def test_a_chosen_secret_is_kept_and_events_are_deduplicated(auth_client):
    body = create(auth_client, secret="a-secret-of-my-own-1", events=["crash.new", "crash.new"]).json()
    assert body["secret"] == "a-secret-of-my-own-1"
    assert body["events"] == ["crash.new"]


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"url": "http://hooks.example.com/"}, "url"),
        ({"url": "https://10.0.0.8/hook"}, "url"),
        ({"url": "https://[::1]:8443/hook"}, "url"),
        ({"url": "https://169.254.169.254/latest/meta-data"}, "url"),
        ({"url": "https://localhost/hook"}, "url"),
        ({"url": "https://user:pw@hooks.example.com/"}, "url"),
        ({"url": 42}, "url"),
        ({"events": []}, "events"),
        ({"events": ["version.deleted"]}, "events"),
        ({"events": "crash.new"}, "events"),
        ({"secret": "short"}, "secret"),
        ({"secret": "s" * 201}, "secret"),
        ({"secret": "non-ascii-sécret-value"}, "secret"),
    ],
)
def test_a_bad_webhook_is_a_400_naming_the_field(auth_client, fields, field):
    response = create(auth_client, **fields)
    assert response.status_code == 400, response.content
    assert field in {key.split(".")[0] for key in response.json()["error"]["details"]}
    assert Webhook.objects.count() == 0


def test_private_addresses_and_http_are_allowed_in_development(auth_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    assert create(auth_client, url="http://127.0.0.1:9000/hook").status_code == 201


def test_a_developer_has_at_most_20_webhooks(auth_client, user):
    for n in range(MAX_WEBHOOKS_PER_OWNER):
        webhook_create(owner=user, url=f"{PUBLIC_URL}/{n}", events=["crash.new"])
    response = create(auth_client)
    assert response.status_code == 409
    assert Webhook.objects.count() == MAX_WEBHOOKS_PER_OWNER


def test_create_honours_the_idempotency_key(auth_client):
    first = auth_client.post(
        URL, {"url": PUBLIC_URL, "events": ["crash.new"]}, format="json", HTTP_IDEMPOTENCY_KEY="hook-1"
    )
    again = auth_client.post(
        URL, {"url": PUBLIC_URL, "events": ["crash.new"]}, format="json", HTTP_IDEMPOTENCY_KEY="hook-1"
    )
    assert again.json() == first.json()
    assert Webhook.objects.count() == 1


def test_delete_removes_the_webhook_and_its_log(auth_client, user):
    webhook, _ = webhook_create(owner=user, url=PUBLIC_URL, events=["crash.new"])
    delivery = WebhookDelivery.objects.create(
        webhook=webhook, event="ping", payload={}, next_attempt_at=timezone.now()
    )
    WebhookAttempt.objects.create(delivery=delivery, number=1, started_at=timezone.now())
    response = auth_client.delete(f"{URL}/{webhook.pk}")
    assert response.status_code == 200 and response.json() == {"success": True}
    assert not Webhook.objects.exists() and not WebhookDelivery.objects.exists()
    assert auth_client.delete(f"{URL}/{webhook.pk}").status_code == 404


def test_another_developers_webhook_is_404_everywhere(auth_client, other_user):
    webhook, _ = webhook_create(owner=other_user, url=PUBLIC_URL, events=["crash.new"])
    for method, path in (
        ("get", ""),
        ("delete", ""),
        ("get", "/deliveries"),
        ("post", "/ping"),
    ):
        assert getattr(auth_client, method)(f"{URL}/{webhook.pk}{path}").status_code == 404
    assert auth_client.get(URL).json()["total"] == 0
    assert Webhook.objects.filter(pk=webhook.pk).exists()


def test_scopes_and_credentials(key_client, device_client, api_client, user):
    webhook_create(owner=user, url=PUBLIC_URL, events=["crash.new"])
    reader = key_client("apps:read")
    assert reader.get(URL).json()["total"] == 1
    refused = create(reader)
    assert refused.status_code == 403
    assert refused.json()["error"]["details"] == {"required_scope": ["apps:write"]}
    assert create(key_client("apps:write")).status_code == 201
    assert device_client.get(URL).status_code == 401
    assert api_client.get(URL).status_code == 401


def test_ping_sends_now_and_answers_the_delivery_with_its_attempt(auth_client, user, receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    webhook, _ = webhook_create(owner=user, url=receiver.url, events=["crash.new"])
    response = auth_client.post(f"{URL}/{webhook.pk}/ping")
    assert response.status_code == 202
    body = response.json()
    # Celery runs in-process here: the attempt is made when the ping's transaction commits.
    assert body["event"] == "ping"
    assert body["payload"]["data"]["webhook_id"] == str(webhook.pk)
    assert body["status"] in ("pending", "succeeded")
    deliveries = auth_client.get(f"{URL}/{webhook.pk}/deliveries").json()
    assert deliveries["total"] == 1
    assert deliveries["deliveries"][0]["id"] == body["id"]


def test_deliveries_list_every_attempt_newest_first(auth_client, user):
    webhook, _ = webhook_create(owner=user, url=PUBLIC_URL, events=["crash.new"])
    older = WebhookDelivery.objects.create(
        webhook=webhook, event="crash.new", payload={"event": "crash.new"}, status="failed", attempt_count=2
    )
    WebhookAttempt.objects.create(
        delivery=older, number=2, started_at=timezone.now(), status_code=500, error="HTTP 500"
    )
    WebhookAttempt.objects.create(
        delivery=older, number=1, started_at=timezone.now(), error="no answer: timed out"
    )
    newer = WebhookDelivery.objects.create(webhook=webhook, event="ping", payload={"event": "ping"})
    body = auth_client.get(f"{URL}/{webhook.pk}/deliveries").json()
    assert [d["id"] for d in body["deliveries"]] == [str(newer.pk), str(older.pk)]
    attempts = body["deliveries"][1]["attempts"]
    assert [(a["number"], a["status_code"], a["error"]) for a in attempts] == [
        (1, None, "no answer: timed out"),
        (2, 500, "HTTP 500"),
    ]
    assert set(attempts[0]) == {
        "number",
        "started_at",
        "duration_ms",
        "status_code",
        "response_body",
        "error",
    }


def test_lists_cost_the_same_queries_for_one_and_many(auth_client, user, django_assert_num_queries):
    webhook, _ = webhook_create(owner=user, url=PUBLIC_URL, events=["crash.new"])

    def add_deliveries(count):
        for _ in range(count):
            delivery = WebhookDelivery.objects.create(webhook=webhook, event="ping", payload={})
            for number in (1, 2):
                WebhookAttempt.objects.create(delivery=delivery, number=number, started_at=timezone.now())

    add_deliveries(1)
    auth_client.get(URL)
    with django_assert_num_queries(3) as one_hook:  # the JWT user, count, page
        auth_client.get(URL)
    with django_assert_num_queries(5) as one_delivery:  # user, webhook, count, page, attempts
        auth_client.get(f"{URL}/{webhook.pk}/deliveries")
    hooks, deliveries = len(one_hook), len(one_delivery)
    for n in range(15):
        webhook_create(owner=user, url=f"{PUBLIC_URL}/{n}", events=["crash.new"])
    add_deliveries(30)
    with django_assert_num_queries(hooks):
        assert auth_client.get(URL).json()["total"] == 16
    with django_assert_num_queries(deliveries):
        assert (
            len(auth_client.get(f"{URL}/{webhook.pk}/deliveries", {"limit": 50}).json()["deliveries"]) == 31
        )
