"""The JSON body of each webhook event (docs/api/webhooks.md), built when the event fires and stored on the
delivery, so every attempt sends the same bytes."""

from __future__ import annotations

import datetime as dt
import json

from django.utils import timezone

from ..constants import WEBHOOK_PING_EVENT, WebhookEvent

# Fields of the activity event's data passed through for each event.
PASSED_THROUGH = {
    WebhookEvent.VERSION_SUBMITTED: ("from", "to"),
    WebhookEvent.VERSION_APPROVED: ("from", "to", "notes"),
    WebhookEvent.VERSION_REJECTED: ("from", "to", "notes"),
    WebhookEvent.VERSION_PUBLISHED: ("from", "to"),
    WebhookEvent.APP_STATUS_CHANGED: ("from", "to", "reason"),
}


def _timestamp(moment) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_payload(*, event, app, version=None) -> dict:
    """``{"id", "event", "timestamp", "data"}`` for an activity event of a webhook type."""
    data: dict = {
        "app": {"id": str(app.pk), "package_id": app.package_id, "name": app.name, "status": app.status}
    }
    if version is not None:
        data["version"] = {
            "id": str(version.pk),
            "version_name": version.version_name,
            "version_code": version.version_code,
            "status": version.status,
        }
    if event.type == WebhookEvent.CRASH_NEW:
        crash = event.data
        data["crash"] = {
            "id": crash.get("crash_group_id"),
            "crash_type": crash.get("crash_type"),
            "message": crash.get("message"),
            "app_version": crash.get("app_version"),
            "first_seen": crash.get("first_seen"),
        }
    for name in PASSED_THROUGH.get(event.type, ()):
        if name in event.data:
            data[name] = event.data[name]
    return {"id": str(event.pk), "event": event.type, "timestamp": _timestamp(event.created_at), "data": data}


def ping_payload(*, webhook, delivery_id) -> dict:
    return {
        "id": str(delivery_id),
        "event": WEBHOOK_PING_EVENT,
        "timestamp": _timestamp(timezone.now()),
        "data": {"webhook_id": str(webhook.pk), "url": webhook.url, "events": list(webhook.events)},
    }


def payload_body(payload: dict) -> bytes:
    """The bytes sent (and signed): compact JSON with sorted keys, the same for every attempt."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
