"""docs/api/webhooks.md's receiver example, run as written against real deliveries from the store."""

import re
import threading
from http.server import HTTPServer
from pathlib import Path

import pytest
from django.utils import timezone

from apps.models import WebhookDelivery
from apps.webhooks.services import webhook_create, webhook_ping

pytestmark = pytest.mark.django_db
DOC = Path(__file__).resolve().parents[2] / "docs" / "api" / "webhooks.md"
SECRET = "whsec_documented-receiver-secret"


def documented_receiver():
    text = DOC.read_text()
    block = re.search(r"A complete receiver.*?```python\n(.*?)```", text, re.S).group(1)
    lines = [line for line in block.splitlines() if line.strip()]
    assert len(lines) <= 10, "the issue promises a 10-line example"
    assert lines[-1].startswith("http.server.HTTPServer(")
    namespace = {}
    exec("\n".join(lines[:-1]), namespace)  # everything but serve_forever on port 8080
    return namespace["Receiver"]


@pytest.fixture
def documented_server(monkeypatch):
    monkeypatch.setenv("MOSIS_WEBHOOK_SECRET", SECRET)
    receiver = documented_receiver()
    receiver.log_message = lambda *args: None
    server = HTTPServer(("127.0.0.1", 0), receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/mosis"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_the_documented_receiver_accepts_the_stores_deliveries(
    user, settings, documented_server, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    webhook, _ = webhook_create(owner=user, url=documented_server, events=["crash.new"], secret=SECRET)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhook_ping(webhook=webhook)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert delivery.attempts.get().status_code == 204


def test_the_documented_receiver_refuses_another_secret(
    user, settings, documented_server, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    webhook, _ = webhook_create(owner=user, url=documented_server, events=["crash.new"], secret="s" * 32)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhook_ping(webhook=webhook)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts.get().status_code == 401
    assert delivery.created_at <= timezone.now()
