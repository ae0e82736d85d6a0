"""Fixtures of the apps tests: webhook receivers, DNS answers and connection records (webhook_receivers.py),
and the device / API-key clients of the telemetry tests."""

from tests.apps.webhook_receivers import connects, dns, receiver, receiver_factory  # noqa: F401
from tests.telemetry.conftest import device_client, key_client  # noqa: F401
