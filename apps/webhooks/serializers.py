"""Input validation and output shape of ``/v1/webhooks`` (the rules are in ``apps.webhooks.services``)."""

from __future__ import annotations

from rest_framework import serializers

from mosis.core.fields import StrictCharField

from ..constants import WebhookEvent
from ..models import Webhook, WebhookAttempt, WebhookDelivery
from .addresses import MAX_URL_LENGTH
from .services import SECRET_MAX_LENGTH, SECRET_MIN_LENGTH


class WebhookCreateSerializer(serializers.Serializer):
    url = StrictCharField(
        max_length=MAX_URL_LENGTH,
        help_text="https URL on a public address (http and private addresses only with WEBHOOK_ALLOW_PRIVATE).",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices),
        min_length=1,
        max_length=len(WebhookEvent.values),
    )
    secret = StrictCharField(
        required=False,
        min_length=SECRET_MIN_LENGTH,
        max_length=SECRET_MAX_LENGTH,
        help_text="Printable ASCII; generated (whsec_…) when omitted. Shown only in this answer.",
    )


class WebhookSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices))
    url = serializers.CharField()

    class Meta:
        model = Webhook
        fields = [
            "id",
            "url",
            "events",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "failing_since",
            "last_success_at",
            "last_failure_at",
            "created_at",
        ]
        read_only_fields = fields


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(help_text="Signs every delivery; shown only once, now.")

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "started_at", "duration_ms", "status_code", "response_body", "error"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    payload = serializers.DictField(help_text="The JSON body sent (and signed).")
    attempts = WebhookAttemptSerializer(many=True, source="attempts.all")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "status",
            "attempt_count",
            "next_attempt_at",
            "completed_at",
            "last_error",
            "payload",
            "attempts",
            "created_at",
        ]
        read_only_fields = fields
