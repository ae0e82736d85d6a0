"""Metrics shared by every app: the depth of the Celery queues, read from the broker when Prometheus scrapes.

``mosis_queue_depth{queue}`` is the number of messages waiting in each queue (validation, webhook deliveries,
rollups and catalog rebuilds all share ``celery`` unless routed elsewhere). The broker is asked at most once
per ``CACHE_SECONDS`` per process, with a short timeout; if it cannot answer, the metric is left out of that
scrape (and ``/v1/health`` reports the broker degraded) rather than slowing the scrape down.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

logger = logging.getLogger("mosis.metrics")

QUEUES = ("celery",)
CACHE_SECONDS = 15.0
CONNECT_TIMEOUT = 2.0


def queue_depths(queues=QUEUES) -> dict[str, int]:
    """{queue: messages waiting}, asked of the broker (passive declare: never creates a queue)."""
    from mosis.celery import app

    depths = {}
    with app.connection_for_read(connect_timeout=CONNECT_TIMEOUT) as connection:
        connection.ensure_connection(max_retries=1, timeout=CONNECT_TIMEOUT)
        channel = connection.default_channel
        for queue in queues:
            try:
                _name, messages, _consumers = channel.queue_declare(queue=queue, passive=True)
            except Exception:  # a queue nothing was ever sent to does not exist yet: empty
                messages = 0
                channel = connection.channel()  # AMQP closes the channel on a failed passive declare
            depths[queue] = int(messages)
    return depths


class QueueDepthCollector(Collector):
    def __init__(self):
        self._lock = threading.Lock()
        self._read_at = float("-inf")
        self._depths: dict[str, int] | None = None

    def _current(self) -> dict[str, int] | None:
        with self._lock:
            if time.monotonic() - self._read_at >= CACHE_SECONDS:
                try:
                    self._depths = queue_depths()
                except Exception:  # noqa: BLE001 - a broker outage must not fail the scrape
                    logger.info("queue depth unavailable: the broker did not answer", exc_info=True)
                    self._depths = None
                self._read_at = time.monotonic()
            return self._depths

    def collect(self):
        depths = self._current()
        if depths is None:
            return
        family = GaugeMetricFamily(
            "mosis_queue_depth", "Celery messages waiting in a queue.", labels=["queue"]
        )
        for queue, messages in sorted(depths.items()):
            family.add_metric([queue], messages)
        yield family

    def describe(self):
        return []  # collected lazily: registering must not ask the broker


QUEUE_DEPTH = QueueDepthCollector()


def register() -> None:
    """Called once from ``CoreConfig.ready``: the queue-depth collector, and every installed app's
    ``metrics`` module (as the admin finds ``admin`` modules), so each metric is exported from the start,
    at zero, not only once the code that counts it first ran in that process."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("metrics")
    with contextlib.suppress(ValueError):  # already registered (ready() twice in one process)
        REGISTRY.register(QUEUE_DEPTH)
