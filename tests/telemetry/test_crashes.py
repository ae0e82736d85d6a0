"""``POST /v1/telemetry/crash`` (issue 14): reports grouped by fingerprint, counted by upsert under a unique
constraint, per-version counts, a bounded sample, ``crash.new`` for a new group; and the crash reads
``GET /v1/apps/{id}/crashes[/{crash_id}]``."""

import datetime as dt
import json
import threading

import pytest
from django.db import connection, connections
from prometheus_client import REGISTRY

from apps.models import ActivityEvent
from telemetry.constants import CONTEXT_MAX_BYTES, CRASH_EVENT_TYPE, SAMPLES_PER_GROUP
from telemetry.models import CrashGroup, CrashGroupVersion, CrashSample, TelemetryEvent
from telemetry.services import crash_fingerprint, crash_report_submit
from telemetry.services.crashes import normalise, top_frames
from tests.conftest import requires_postgres
from tests.factories import AppFactory, community_device
from tests.telemetry.conftest import iso, now_utc

pytestmark = pytest.mark.django_db
URL = "/v1/telemetry/crash"

JAVA_TRACE = """java.lang.NullPointerException: Attempt to read user 4711 at 0x7f3a2b1c
    at com.example.notes.Editor.save(Editor.java:212)
    at com.example.notes.Editor.onPause(Editor.java:88)
    at android.app.Activity.performPause(Activity.java:8112)
    at android.app.Instrumentation.callActivityOnPause(Instrumentation.java:1530)
    at android.app.ActivityThread.performPauseActivityIfNeeded(ActivityThread.java:4815)
    at android.app.ActivityThread.performPauseActivity(ActivityThread.java:4776)
"""


def report(app, **fields) -> dict:
    return {
        "app_id": str(app.pk),
        "app_version": "1.4.0",
        "crash_type": "java.lang.NullPointerException",
        "message": "Attempt to read user 4711 at 0x7f3a2b1c",
        "stack_trace": JAVA_TRACE,
        "context": {"os": "mosis 1.5", "free_memory_mb": 312},
        **fields,
    }


def send(client, body, **headers):
    # json.dumps escapes an unpaired surrogate as \ud800, as a client would send it
    return client.post(URL, json.dumps(body), content_type="application/json", **headers)


# --- fingerprint ----------------------------------------------------------------------------------------


def test_normalise_replaces_what_varies_between_occurrences():
    assert normalise("user 4711 at 0x7F3A2B1C id 1f0c2d4e-8a6b-4c2d-9e1f-0a1b2c3d4e5f hash deadbeef42") == (
        "user <n> at <addr> id <uuid> hash <hex>"
    )
    assert normalise("  Timeout   after\t30s ") == "Timeout after <n>s"


def test_the_same_crash_with_other_numbers_and_line_numbers_has_one_fingerprint():
    a = crash_fingerprint(crash_type="NPE", message="user 1 at 0x10", stack_trace=JAVA_TRACE)
    shifted = JAVA_TRACE.replace("Editor.java:212", "Editor.java:230").replace("4711", "5")
    b = crash_fingerprint(crash_type="NPE", message="user 99 at 0xff", stack_trace=shifted)
    assert a == b
    assert crash_fingerprint(crash_type="OOM", message="user 1 at 0x10", stack_trace=JAVA_TRACE) != a
    assert crash_fingerprint(crash_type="NPE", message="file missing", stack_trace=JAVA_TRACE) != a
    other_frames = JAVA_TRACE.replace("Editor.save", "Editor.load")
    assert crash_fingerprint(crash_type="NPE", message="user 1 at 0x10", stack_trace=other_frames) != a


def test_only_the_top_frames_count():
    deeper = JAVA_TRACE + "    at android.os.Handler.dispatchMessage(Handler.java:106)\n"
    assert crash_fingerprint(crash_type="E", message="", stack_trace=deeper) == crash_fingerprint(
        crash_type="E", message="", stack_trace=JAVA_TRACE
    )
    assert len(top_frames(JAVA_TRACE)) == 5


def test_a_python_traceback_uses_its_innermost_frames():
    trace = (
        "Traceback (most recent call last):\n"
        '  File "main.py", line 10, in <module>\n    run()\n'
        '  File "app.py", line 22, in run\n    handle(request)\n'
        '  File "views.py", line 301, in handle\n    return 1 / 0\n'
        "ZeroDivisionError: division by zero\n"
    )
    assert top_frames(trace, count=2) == [
        'File "views.py", line <n>, in handle',
        'File "app.py", line <n>, in run',
    ]


# --- submitting -------------------------------------------------------------------------------------------


def test_a_first_report_opens_a_group_and_the_next_joins_it(device_client, app):
    first = send(device_client, report(app))
    assert first.status_code == 201, first.content
    group_id = first.json()["id"]
    second = send(
        device_client, report(app, message="Attempt to read user 12 at 0x99ff", app_version="1.5.0")
    )
    assert second.status_code == 200
    assert second.json() == {"id": group_id}
    group = CrashGroup.objects.get()
    assert str(group.pk) == group_id
    assert group.occurrences == 2
    assert group.app_version == "1.5.0"  # the latest report's
    assert group.message == "Attempt to read user 4711 at 0x7f3a2b1c"  # the first report's
    assert group.context == {"os": "mosis 1.5", "free_memory_mb": 312}
    assert dict(CrashGroupVersion.objects.values_list("app_version", "occurrences")) == {
        "1.4.0": 1,
        "1.5.0": 1,
    }
    crash_events = TelemetryEvent.objects.filter(event_type=CRASH_EVENT_TYPE)
    assert crash_events.count() == 2
    assert {e.device_id for e in crash_events} == {device_client.device.pk}


def test_first_and_last_seen_follow_the_reports_timestamps(device_client, app):
    now = now_utc()
    send(device_client, report(app, timestamp=iso(now - dt.timedelta(hours=1))))
    send(device_client, report(app, timestamp=iso(now - dt.timedelta(hours=3)), app_version="1.3.0"))
    send(device_client, report(app, timestamp="3000-01-01T00:00:00Z"))  # clamped to now
    group = CrashGroup.objects.get()
    assert abs(group.first_seen - (now - dt.timedelta(hours=3))) < dt.timedelta(seconds=1)
    assert now <= group.last_seen <= now_utc()
    assert group.app_version == "1.4.0"  # the 1.3.0 report was older than the newest seen
    assert group.occurrences == 3


def test_the_sample_keeps_only_the_most_recent_reports(device_client, app):
    for n in range(SAMPLES_PER_GROUP + 3):
        send(device_client, report(app, message=f"Attempt to read user {n} at 0x1", context={"n": n}))
    assert CrashSample.objects.count() == SAMPLES_PER_GROUP
    assert sorted(s.context["n"] for s in CrashSample.objects.all()) == list(range(3, SAMPLES_PER_GROUP + 3))
    assert CrashGroup.objects.get().occurrences == SAMPLES_PER_GROUP + 3


def test_a_new_group_records_crash_new_once(device_client, app):
    send(device_client, report(app))
    send(device_client, report(app))
    send(device_client, report(app, crash_type="java.lang.OutOfMemoryError"))
    events = ActivityEvent.objects.filter(type="crash.new").order_by("created_at")
    assert [e.data["crash_type"] for e in events] == [
        "java.lang.NullPointerException",
        "java.lang.OutOfMemoryError",
    ]
    assert all(e.app_id == app.pk for e in events)
    assert events[0].data["crash_group_id"] == str(CrashGroup.objects.order_by("first_seen").first().pk)


def test_the_same_crash_in_two_apps_makes_two_groups(device_client, app):
    other = AppFactory()
    a = send(device_client, report(app)).json()["id"]
    b = send(device_client, report(other)).json()["id"]
    assert a != b
    assert CrashGroup.objects.count() == 2


def test_a_replay_under_the_same_idempotency_key_is_not_counted_twice(device_client, app):
    first = send(device_client, report(app), HTTP_IDEMPOTENCY_KEY="crash-1")
    again = send(device_client, report(app), HTTP_IDEMPOTENCY_KEY="crash-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert CrashGroup.objects.get().occurrences == 1
    assert send(device_client, report(app, message="x"), HTTP_IDEMPOTENCY_KEY="crash-1").status_code == 409


@pytest.mark.parametrize(
    "change,field",
    [
        ({"app_id": "not-a-uuid"}, "app_id"),
        ({"app_id": "00000000-0000-0000-0000-000000000000"}, "app_id"),
        ({"app_version": ""}, "app_version"),
        ({"app_version": "1" * 65}, "app_version"),
        ({"crash_type": 42}, "crash_type"),
        ({"crash_type": "E" * 201}, "crash_type"),
        ({"message": "m" * 4097}, "message"),
        ({"message": "\ud800"}, "message"),
        ({"stack_trace": "s" * (64 * 1024 + 1)}, "stack_trace"),
        ({"context": ["not", "an", "object"]}, "context"),
        ({"context": {"k": "x" * CONTEXT_MAX_BYTES}}, "context"),
        ({"context": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}}, "context"),
        ({"timestamp": "2026-12-04"}, "timestamp"),
        ({"timestamp": "2001-01-01T00:00:00Z"}, "timestamp"),
    ],
)
def test_a_bad_report_is_a_400_naming_the_field_and_counts_nothing(device_client, app, change, field):
    response = send(device_client, report(app, **change))
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"]
    assert CrashGroup.objects.count() == 0
    assert TelemetryEvent.objects.count() == 0


def test_the_largest_report_within_the_bounds_is_accepted(device_client, app):
    body = report(
        app,
        app_version="1" * 64,
        crash_type="E" * 200,
        message="m" * 4096,
        stack_trace="s" * (64 * 1024),
        context={"k": "x" * (CONTEXT_MAX_BYTES - len('{"k":""}'))},
    )
    assert send(device_client, body).status_code == 201


def test_an_api_key_reports_for_its_owners_apps_only(key_client, device_client, app, other_user):
    client = key_client("telemetry:write")
    assert send(client, report(app)).status_code == 201
    assert send(client, report(app)).status_code == 200
    foreign = AppFactory(owner=other_user)
    response = send(client, report(foreign))
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"app_id": ["Unknown app."]}
    assert send(device_client, report(foreign)).status_code == 201  # the crash group now exists
    assert send(client, report(foreign)).status_code == 400  # and still is not the key owner's
    assert CrashGroup.objects.get(app=foreign).occurrences == 1
    assert send(key_client("telemetry:read"), report(app)).status_code == 403


def test_without_credentials_it_is_401(api_client, app):
    assert send(api_client, report(app)).status_code == 401


def test_crash_reports_are_counted_in_prometheus(device_client, app):
    def value(group):
        return REGISTRY.get_sample_value("mosis_telemetry_crash_reports_total", {"group": group}) or 0

    new, existing = value("new"), value("existing")
    send(device_client, report(app))
    send(device_client, report(app))
    assert (value("new"), value("existing")) == (new + 1, existing + 1)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_crashes_make_one_group_and_count_every_report(user):
    app = AppFactory(owner=user)
    devices = [community_device()[0] for _ in range(8)]
    barrier = threading.Barrier(len(devices))
    results, errors = [], []

    def submit(device):
        try:
            barrier.wait(timeout=10)
            for _ in range(5):
                results.append(
                    crash_report_submit(
                        app_id=app.pk, app_version="1.0.0", crash_type="E", message="boom", device=device
                    )
                )
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(device,)) for device in devices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    group = CrashGroup.objects.get()
    assert group.occurrences == 40
    assert {r.group_id for r in results} == {group.pk}
    assert sum(r.created for r in results) == 1
    assert CrashGroupVersion.objects.get().occurrences == 40
    assert CrashSample.objects.count() == SAMPLES_PER_GROUP
    assert ActivityEvent.objects.filter(type="crash.new").count() == 1


# --- reading --------------------------------------------------------------------------------------------


def crashes_url(app, suffix=""):
    return f"/v1/apps/{app.pk}/crashes{suffix}"


def test_the_list_is_seed_000s_crash_report_grouped_newest_first(auth_client, device_client, app):
    now = now_utc()
    send(device_client, report(app, timestamp=iso(now - dt.timedelta(hours=5))))
    send(
        device_client,
        report(app, crash_type="Timeout", message="after 30s", timestamp=iso(now - dt.timedelta(hours=1))),
    )
    send(device_client, report(app, app_version="1.5.0", timestamp=iso(now - dt.timedelta(hours=2))))
    response = auth_client.get(crashes_url(app))
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2 and body["pagination"]["total"] == 2
    timeout, npe = body["crashes"]
    assert timeout["crash_type"] == "Timeout"
    assert set(npe) == {
        "id",
        "app_id",
        "app_version",
        "crash_type",
        "message",
        "stack_trace",
        "context",
        "occurrences",
        "first_seen",
        "last_seen",
        "versions",
    }
    assert npe["app_id"] == str(app.pk)
    assert npe["occurrences"] == 2
    assert npe["app_version"] == "1.5.0"
    assert npe["stack_trace"] == JAVA_TRACE
    assert [(v["app_version"], v["occurrences"]) for v in npe["versions"]] == [("1.5.0", 1), ("1.4.0", 1)]


def test_the_version_filter_shows_that_versions_counts(auth_client, device_client, app):
    send(device_client, report(app, app_version="1.4.0"))
    send(device_client, report(app, app_version="1.4.0"))
    send(device_client, report(app, app_version="1.5.0"))
    send(device_client, report(app, crash_type="OnlyIn15", app_version="1.5.0"))
    body = auth_client.get(crashes_url(app), {"version": "1.4.0"}).json()
    assert body["total"] == 1
    assert (body["crashes"][0]["app_version"], body["crashes"][0]["occurrences"]) == ("1.4.0", 2)
    body = auth_client.get(crashes_url(app), {"version": "1.5.0"}).json()
    assert sorted(c["crash_type"] for c in body["crashes"]) == ["OnlyIn15", "java.lang.NullPointerException"]
    assert all(c["occurrences"] == 1 for c in body["crashes"])
    assert auth_client.get(crashes_url(app), {"version": "9.9"}).json()["total"] == 0
    assert auth_client.get(crashes_url(app), {"version": ""}).status_code == 400


def test_the_list_pages(auth_client, device_client, app):
    for n in range(3):
        send(device_client, report(app, crash_type=f"E{n}"))
    body = auth_client.get(crashes_url(app), {"limit": 2, "page": 2}).json()
    assert len(body["crashes"]) == 1
    assert body["pagination"] == {"page": 2, "limit": 2, "total": 3, "total_pages": 2, "total_exact": True}


def test_the_list_costs_the_same_queries_for_1_and_many_groups(
    auth_client, device_client, app, django_assert_num_queries
):
    send(device_client, report(app))
    auth_client.get(crashes_url(app))
    with django_assert_num_queries(5) as one:  # app, count, page, versions, + the JWT user
        assert len(auth_client.get(crashes_url(app)).json()["crashes"]) == 1
    queries = len(one.captured_queries)
    for n in range(30):
        send(device_client, report(app, crash_type=f"E{n}", app_version=f"1.{n}.0"))
    with django_assert_num_queries(queries):
        assert len(auth_client.get(crashes_url(app), {"limit": 100}).json()["crashes"]) == 31
    with django_assert_num_queries(queries):
        auth_client.get(crashes_url(app), {"version": "1.3.0"})


def test_the_detail_has_the_recent_raw_reports(auth_client, device_client, app):
    group_id = send(device_client, report(app, context={"n": 1})).json()["id"]
    send(device_client, report(app, context={"n": 2}, message="Attempt to read user 5 at 0x2"))
    body = auth_client.get(crashes_url(app, f"/{group_id}")).json()
    assert body["id"] == group_id and body["occurrences"] == 2
    assert [s["context"]["n"] for s in body["samples"]] == [2, 1]
    assert body["samples"][0]["message"] == "Attempt to read user 5 at 0x2"
    missing = auth_client.get(crashes_url(app, "/00000000-0000-0000-0000-000000000000"))
    assert missing.status_code == 404


def test_another_developers_app_is_404_and_the_read_needs_telemetry_read(
    other_client, key_client, device_client, app
):
    group_id = send(device_client, report(app)).json()["id"]
    assert other_client.get(crashes_url(app)).status_code == 404
    assert other_client.get(crashes_url(app, f"/{group_id}")).status_code == 404
    assert key_client("telemetry:read").get(crashes_url(app)).status_code == 200
    forbidden = key_client("apps:read").get(crashes_url(app))
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["details"] == {"required_scope": ["telemetry:read"]}
    assert device_client.get(crashes_url(app)).status_code == 401


def test_deleting_an_app_takes_its_crash_groups(device_client, app):
    send(device_client, report(app))
    app.delete()
    assert CrashGroup.objects.count() == CrashGroupVersion.objects.count() == CrashSample.objects.count() == 0
    assert connection.vendor in ("postgresql", "sqlite")
