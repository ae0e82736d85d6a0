"""bench/ingest.py: its figures (percentiles, CPU accounting) and its inputs, which must be what the server
accepts (a batch the server would partly reject, or crashes it would refuse, would measure nothing)."""

import importlib.util
import os
import sys
import uuid
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location(
    "bench_ingest", Path(__file__).parents[2] / "bench" / "ingest.py"
)
ingest = importlib.util.module_from_spec(SPEC)
sys.modules["bench_ingest"] = ingest
SPEC.loader.exec_module(ingest)


def test_percentile_is_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert ingest.percentile(values, 0.50) == 50.0
    assert ingest.percentile(values, 0.99) == 99.0
    assert ingest.percentile(values, 1.0) == 100.0
    assert ingest.percentile([7.0], 0.99) == 7.0
    assert ingest.percentile([], 0.5) == 0.0


def test_cpu_accounting_reads_this_process():
    burnt = ingest.process_cpu(os.getpid())
    sum(n * n for n in range(300_000))
    assert ingest.process_cpu(os.getpid()) >= burnt
    assert ingest.process_cpu(2**22 + 7) == 0.0  # no such process
    assert os.getpid() in ingest.children_of(os.getppid())


@pytest.mark.django_db
def test_the_batches_are_valid_events_the_server_keeps_every_one_of(api_client):
    from telemetry.models import TelemetryEvent
    from tests.factories import AppFactory, community_device

    app = AppFactory()
    _device, token = community_device()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    batch = ingest.batch_events(str(app.pk), 1000, seed=3)
    response = api_client.post("/v1/telemetry/events", {"events": batch}, format="json")
    assert response.json() == {"received": 1000, "rejected": []}
    assert TelemetryEvent.objects.count() == 1000


def test_the_copy_text_is_the_servers(settings):
    from telemetry.services.ingest import COPY_COLUMNS

    batch = ingest.batch_events(str(uuid.uuid4()), 3, seed=1)
    text = ingest.copy_payload_for(batch, str(uuid.uuid4())).decode()
    rows = text.splitlines()
    assert len(rows) == 3
    assert all(len(row.split("\t")) == len(COPY_COLUMNS) for row in rows)


def test_the_crash_reports_are_valid_reports_of_distinct_crashes():
    import json

    from telemetry.serializers import CrashReportInputSerializer
    from telemetry.services import crash_fingerprint

    bodies = [json.loads(body) for body in ingest.crash_bodies(str(uuid.uuid4()), 20)]
    for body in bodies:
        serializer = CrashReportInputSerializer(data=body)
        assert serializer.is_valid(), serializer.errors
    fingerprints = {
        crash_fingerprint(crash_type=b["crash_type"], message=b["message"], stack_trace=b["stack_trace"])
        for b in bodies
    }
    assert len(fingerprints) == 20
