"""Shared Prometheus metrics (mosis.core.metrics): the Celery queue depth, read from the broker at scrape time."""

import socket
import uuid

import pytest

from mosis.core import metrics
from mosis.core.metrics import QueueDepthCollector, queue_depths


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def scratch_queue():
    from mosis.celery import app

    name = f"mosis-test-depth-{uuid.uuid4().hex[:8]}"
    with app.connection_for_write() as connection:
        queue = connection.SimpleQueue(name)
        yield queue
        queue.clear()
        queue.queue(connection.default_channel).delete()
        queue.close()


def test_queue_depth_counts_the_messages_waiting(scratch_queue):
    name = scratch_queue.queue.name
    assert queue_depths(queues=(name,)) == {name: 0}
    scratch_queue.put({"n": 1})
    scratch_queue.put({"n": 2})
    assert queue_depths(queues=(name,)) == {name: 2}


def test_the_collector_exports_the_gauge_and_reads_the_broker_at_most_every_15_seconds(
    scratch_queue, monkeypatch
):
    name = scratch_queue.queue.name
    monkeypatch.setattr(metrics, "QUEUES", (name,))
    calls = []
    real = metrics.queue_depths
    monkeypatch.setattr(metrics, "queue_depths", lambda: calls.append(1) or real(queues=(name,)))
    collector = QueueDepthCollector()
    scratch_queue.put({"n": 1})
    [family] = list(collector.collect())
    assert family.name == "mosis_queue_depth"
    assert [(s.labels, s.value) for s in family.samples] == [({"queue": name}, 1)]
    list(collector.collect())
    assert len(calls) == 1


def test_an_unreachable_broker_leaves_the_metric_out_without_failing(monkeypatch):
    from mosis.celery import app

    dead = f"redis://127.0.0.1:{closed_port()}/0"
    monkeypatch.setattr(app.conf, "broker_url", dead)  # before the environment: see test_operations
    monkeypatch.setenv("CELERY_BROKER_URL", dead)
    assert list(QueueDepthCollector().collect()) == []


@pytest.mark.django_db
def test_metrics_endpoint_serves_the_stores_own_metrics(client):
    body = client.get("/metrics").content.decode()
    for name in (
        "mosis_queue_depth",
        "mosis_telemetry_events_ingested_total",
        "mosis_telemetry_batch_seconds_bucket",
        "mosis_webhook_attempt_seconds_bucket",
        "mosis_validation_seconds_bucket",
    ):
        assert name in body, name
