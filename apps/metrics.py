"""Prometheus metrics of the apps app: webhook deliveries (docs/operations.md, Metrics)."""

from prometheus_client import Counter, Histogram

WEBHOOK_ATTEMPTS = Counter(
    "mosis_webhook_attempts",
    "Webhook delivery attempts by outcome: success, http_error, network_error, refused (SSRF guard).",
    ["outcome"],
)
WEBHOOK_ATTEMPT_SECONDS = Histogram(
    "mosis_webhook_attempt_seconds",
    "Duration of one webhook delivery attempt (resolution, connection, request, reading the answer).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
WEBHOOK_DELIVERIES_FINISHED = Counter(
    "mosis_webhook_deliveries_finished",
    "Webhook deliveries that reached a final state: succeeded, or failed (retries exhausted or webhook "
    "disabled).",
    ["status"],
)
WEBHOOKS_DISABLED = Counter(
    "mosis_webhooks_disabled",
    "Webhooks disabled automatically after failing for WEBHOOK_DISABLE_AFTER.",
)
