"""``POST /v1/telemetry/events`` (issue 14, Ingestion): each event validated on its own, the valid ones kept
with one bulk write, every bound answered with a clear 4xx. Runs on SQLite and PostgreSQL (the COPY path)."""

import datetime as dt
import json

import pytest
from prometheus_client import REGISTRY

from telemetry.constants import EVENT_DATA_MAX_BYTES, MAX_BATCH_EVENTS
from telemetry.models import TelemetryEvent
from tests.factories import AppFactory
from tests.telemetry.conftest import event, iso, now_utc

pytestmark = pytest.mark.django_db
URL = "/v1/telemetry/events"


def post(client, events, **headers):
    return client.post(URL, {"events": events}, format="json", **headers)


def metric(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0


def test_a_device_batch_is_stored_with_its_device_and_answers_received(device_client, app):
    sent_at = now_utc() - dt.timedelta(hours=2)
    response = post(
        device_client,
        [
            event(app.pk, "app.open", event_data={"screen": "home"}, timestamp=iso(sent_at)),
            event(app.pk, "screen_view", event_data={"screen": "settings", "n": [1, 2, {"a": None}]}),
            event(app.pk, "purchase:done"),
        ],
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"received": 3, "rejected": []}
    rows = list(TelemetryEvent.objects.order_by("event_type").values())
    assert [r["event_type"] for r in rows] == ["app.open", "purchase:done", "screen_view"]
    assert {r["app_id"] for r in rows} == {app.pk}
    assert {r["device_id"] for r in rows} == {device_client.device.pk}
    assert rows[0]["event_data"] == {"screen": "home"}
    assert abs(rows[0]["timestamp"] - sent_at) < dt.timedelta(milliseconds=1)
    assert rows[1]["event_data"] == {}  # event_data is optional
    assert rows[2]["event_data"] == {"screen": "settings", "n": [1, 2, {"a": None}]}


INVALID_EVENTS = [
    ("not an object", "must be a JSON object"),
    ({"app_id": "APP", "event_type": "x"}, "app_id: must be a UUID"),
    ({"event_type": "x"}, "app_id: must be a UUID"),
    ({"app_id": ["not", "hashable"], "event_type": "x"}, "app_id: must be a UUID"),
    ({"app_id": {"id": 1}, "event_type": "x"}, "app_id: must be a UUID"),
    ({"app_id": "{app}", "event_type": "App.Open"}, "event_type: must be 1-64"),
    ({"app_id": "{app}", "event_type": "1open"}, "event_type: must be 1-64"),
    ({"app_id": "{app}", "event_type": "a" * 65}, "event_type: must be 1-64"),
    ({"app_id": "{app}", "event_type": 7}, "event_type: must be 1-64"),
    ({"app_id": "{app}", "event_type": {}}, "event_type: must be 1-64"),
    ({"app_id": "{app}", "event_type": ["app.open"]}, "event_type: must be 1-64"),
    ({"app_id": "{app}", "event_type": "app.open\n"}, "event_type: must be 1-64"),
    ({"app_id": "{app}", "event_type": "mosis.crash"}, "prefix is reserved"),
    ({"app_id": "{app}", "event_type": "x", "event_data": [1]}, "event_data: must be a JSON object"),
    ({"app_id": "{app}", "event_type": "x", "event_data": {"k": "\x00"}}, "NUL character"),
    ({"app_id": "{app}", "event_type": "x", "event_data": {"k\x00": 1}}, "NUL character"),
    ({"app_id": "{app}", "event_type": "x", "event_data": {"k": [["\x00"]]}}, "NUL character"),
    ({"app_id": "{app}", "event_type": "x", "event_data": {"k": 2**64}}, "integers must fit in 64 bits"),
    ({"app_id": "{app}", "event_type": "x", "timestamp": "yesterday"}, "timestamp: must be an ISO 8601"),
    ({"app_id": "{app}", "event_type": "x", "timestamp": 1733300000}, "timestamp: must be an ISO 8601"),
    ({"app_id": "{app}", "event_type": "x", "timestamp": "2026-12-04T10:00:00"}, "must carry a UTC offset"),
    ({"app_id": "{app}", "event_type": "x", "device": "d"}, "unknown field(s): device"),
]


@pytest.mark.parametrize("item,error", INVALID_EVENTS, ids=[e for _, e in INVALID_EVENTS])
def test_an_invalid_event_is_rejected_alone_and_the_others_are_kept(device_client, app, item, error):
    if isinstance(item, dict):
        item = {k: (str(app.pk) if v == "{app}" else v) for k, v in item.items()}
    response = post(device_client, [event(app.pk), item, event(app.pk, "app.close")])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["received"] == 2
    assert [r["index"] for r in body["rejected"]] == [1]
    assert error in body["rejected"][0]["error"]
    assert TelemetryEvent.objects.count() == 2


def test_event_data_is_bounded_in_bytes_and_depth(device_client, app):
    filler = EVENT_DATA_MAX_BYTES - len('{"k":""}')
    just_fits = {"k": "x" * filler}
    too_big = {"k": "x" * (filler + 1)}
    deep_ok = {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": 1}}}}}}}}  # 8 levels under the object
    too_deep = {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}
    far_too_deep = current = {}
    for _ in range(300):  # deeper than the serializer itself recurses
        current["a"] = current = {}
    brackets_in_text = {"k": "[[[[{{{{[[[[{{{{"}
    response = post(
        device_client,
        [
            event(app.pk, event_data=just_fits),
            event(app.pk, event_data=too_big),
            event(app.pk, event_data=deep_ok),
            event(app.pk, event_data=too_deep),
            event(app.pk, event_data=far_too_deep),
            event(app.pk, event_data=brackets_in_text),
        ],
    )
    body = response.json()
    assert body["received"] == 3
    assert [(r["index"], r["error"]) for r in body["rejected"]] == [
        (1, f"event_data: at most {EVENT_DATA_MAX_BYTES} bytes as JSON ({EVENT_DATA_MAX_BYTES + 1} sent)."),
        (3, "event_data: nested deeper than 8 levels."),
        (4, "event_data: nested deeper than 8 levels."),
    ]


def test_an_unpaired_surrogate_in_event_data_is_rejected(device_client, app):
    # json.dumps writes the unpaired surrogate as the escape \ud800, as a client would send it
    raw = json.dumps(
        {
            "events": [
                {"app_id": str(app.pk), "event_type": "x", "event_data": {"k": "\ud800"}},
                {"app_id": str(app.pk), "event_type": "x", "event_data": {"k": "café 😀"}},
            ]
        }
    )
    response = device_client.post(URL, raw, content_type="application/json")
    body = response.json()
    assert body["received"] == 1
    assert body["rejected"][0]["index"] == 0 and "unpaired surrogate" in body["rejected"][0]["error"]
    assert TelemetryEvent.objects.get().event_data == {"k": "café 😀"}


def test_text_that_copy_would_misread_survives_exactly(device_client, app):
    data = {
        "escaped_nul": "\\u0000 is how JSON writes a NUL",
        "path": "C:\\new\\table",
        "tab": "a\tb",
        "nl": "line1\nline2\r\n",
        "quote": '"\\N"',
        "u": "ß→😀",
    }
    assert post(device_client, [event(app.pk, event_data=data)]).json()["received"] == 1
    assert TelemetryEvent.objects.get().event_data == data


def test_a_future_timestamp_is_clamped_to_the_moment_of_receipt(device_client, app):
    before = now_utc()
    post(device_client, [event(app.pk, timestamp="3000-01-01T00:00:00Z"), event(app.pk)])
    after = now_utc()
    stored = list(TelemetryEvent.objects.values_list("timestamp", "received_at"))
    for timestamp, received_at in stored:
        assert before <= timestamp <= after
        assert timestamp == received_at


def test_an_event_older_than_the_retention_is_rejected(device_client, app, settings):
    settings.TELEMETRY_RETENTION_DAYS = 30
    old = now_utc() - dt.timedelta(days=32)
    within = now_utc() - dt.timedelta(days=29)
    body = post(
        device_client, [event(app.pk, timestamp=iso(old)), event(app.pk, timestamp=iso(within))]
    ).json()
    assert body["received"] == 1
    assert body["rejected"][0]["index"] == 0
    assert "older than the retention window" in body["rejected"][0]["error"]


def test_an_unknown_app_rejects_only_its_events(device_client, app):
    body = post(device_client, [event("00000000-0000-0000-0000-000000000000"), event(app.pk)]).json()
    assert body == {"received": 1, "rejected": [{"index": 0, "error": "app_id: unknown app."}]}


def test_a_batch_of_exactly_1000_events_is_accepted_and_1001_is_a_400(device_client, app):
    response = post(device_client, [event(app.pk)] * MAX_BATCH_EVENTS)
    assert response.json() == {"received": MAX_BATCH_EVENTS, "rejected": []}
    response = post(device_client, [event(app.pk)] * (MAX_BATCH_EVENTS + 1))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"] == {"events": ["At most 1000 events a batch."]}
    assert TelemetryEvent.objects.count() == MAX_BATCH_EVENTS


def test_a_body_over_1_mib_is_413_and_stores_nothing(device_client, app, settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 1024 * 1024
    big = {"k": "x" * 4000}
    events = [event(app.pk, event_data=big)] * 300  # ~1.2 MB
    response = post(device_client, events)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert TelemetryEvent.objects.count() == 0


@pytest.mark.parametrize(
    "body,field",
    [
        ({"events": []}, "events"),
        ({"events": {"app_id": "x"}}, "events"),
        ({}, "events"),
        ([{"app_id": "x"}], "events"),
        ({"events": [], "extra": 1}, "extra"),
    ],
)
def test_a_batch_that_is_not_a_list_of_events_is_a_400(device_client, body, field):
    response = device_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_deeply_nested_json_is_a_400_not_a_500(device_client):
    response = device_client.post(URL, "[" * 100_000 + "]" * 100_000, content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper" in response.json()["error"]["message"]


# --- who may send ---------------------------------------------------------------------------------------


def test_without_credentials_it_is_401(api_client, app):
    response = post(api_client, [event(app.pk)])
    assert response.status_code == 401


def test_an_api_key_with_telemetry_write_sends_for_its_owners_apps_only(key_client, app, other_user):
    foreign = AppFactory(owner=other_user)
    client = key_client("telemetry:write")
    body = post(client, [event(app.pk), event(foreign.pk)]).json()
    assert body == {"received": 1, "rejected": [{"index": 1, "error": "app_id: unknown app."}]}
    stored = TelemetryEvent.objects.get()
    assert stored.app_id == app.pk and stored.device_id is None


@pytest.mark.parametrize("scopes", [("telemetry:read",), ("apps:write", "apps:read")])
def test_an_api_key_without_telemetry_write_is_403_naming_the_scope(key_client, app, scopes):
    response = post(key_client(*scopes), [event(app.pk)])
    assert response.status_code == 403
    assert response.json()["error"]["details"] == {"required_scope": ["telemetry:write"]}
    assert TelemetryEvent.objects.count() == 0


def test_a_developer_jwt_may_send_for_its_own_apps(auth_client, app):
    assert post(auth_client, [event(app.pk)]).json() == {"received": 1, "rejected": []}


def test_requests_count_in_the_telemetry_rate_limit(device_client, app, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "telemetry": "2/h"}
    assert post(device_client, [event(app.pk)])["X-RateLimit-Limit"] == "2"
    assert post(device_client, [event(app.pk)]).status_code == 200
    response = post(device_client, [event(app.pk)])
    assert response.status_code == 429
    assert TelemetryEvent.objects.count() == 2


# --- idempotency ----------------------------------------------------------------------------------------


def test_an_idempotency_key_replays_the_answer_and_stores_nothing_twice(device_client, app):
    events = [event(app.pk), {"bad": 1}]
    first = post(device_client, events, HTTP_IDEMPOTENCY_KEY="batch-1")
    again = post(device_client, events, HTTP_IDEMPOTENCY_KEY="batch-1")
    assert again.status_code == 200
    assert (
        again.json()
        == first.json()
        == {
            "received": 1,
            "rejected": [{"index": 1, "error": "unknown field(s): bad."}],
        }
    )
    assert again["Idempotent-Replayed"] == "true"
    assert TelemetryEvent.objects.count() == 1
    other = post(device_client, [event(app.pk, "app.close")], HTTP_IDEMPOTENCY_KEY="batch-1")
    assert other.status_code == 409
    assert TelemetryEvent.objects.count() == 1


# --- cost -----------------------------------------------------------------------------------------------


def test_a_batch_is_one_bulk_write_whatever_its_size(device_client, app, django_assert_max_num_queries):
    """PostgreSQL: one COPY for 1 or 1000 events. SQLite: multi-row INSERTs as large as its bound on
    statement parameters allows (never a row at a time)."""
    from django.db import connection

    post(device_client, [event(app.pk)])  # the device's last_seen touch happens once a minute
    with django_assert_max_num_queries(5) as one:
        assert post(device_client, [event(app.pk)]).json()["received"] == 1
    extra = 0
    if connection.vendor != "postgresql":
        fields = [f for f in TelemetryEvent._meta.concrete_fields if not f.primary_key]
        per_statement = connection.ops.bulk_batch_size(fields, [None] * 1000)
        assert per_statement > 100
        extra = -(-1000 // per_statement) - 1
    with django_assert_max_num_queries(len(one.captured_queries) + extra):
        assert post(device_client, [event(app.pk)] * 1000).json()["received"] == 1000


def test_ingestion_is_counted_in_prometheus(device_client, app):
    stored = metric("mosis_telemetry_events_ingested_total", source="device")
    unknown = metric("mosis_telemetry_events_rejected_total", reason="unknown_app")
    invalid = metric("mosis_telemetry_events_rejected_total", reason="invalid")
    batches = metric("mosis_telemetry_batch_seconds_count")
    post(device_client, [event(app.pk), event(app.pk), event("00000000-0000-0000-0000-000000000001"), 5])
    assert metric("mosis_telemetry_events_ingested_total", source="device") == stored + 2
    assert metric("mosis_telemetry_events_rejected_total", reason="unknown_app") == unknown + 1
    assert metric("mosis_telemetry_events_rejected_total", reason="invalid") == invalid + 1
    assert metric("mosis_telemetry_batch_seconds_count") == batches + 1


def test_the_stored_events_are_json_not_text(device_client, app):
    post(device_client, [event(app.pk, event_data={"n": 1})])
    assert TelemetryEvent.objects.filter(event_data__n=1).count() == 1
    assert json.loads(json.dumps(TelemetryEvent.objects.get().event_data)) == {"n": 1}


@pytest.mark.parametrize(
    "suffix",
    [
        "T10:15:00Z",
        "T10:15:00.5Z",
        "T10:15:00.123456+00:00",
        "T15:45:00.25+05:30",
        "T10:15:00.1234567Z",
        "T05:15-05:00",
    ],
)
def test_every_accepted_timestamp_form_is_stored_as_the_moment_python_read(device_client, app, suffix):
    day = (now_utc() - dt.timedelta(days=1)).date().isoformat()
    sent = day + suffix
    assert post(device_client, [event(app.pk, timestamp=sent)]).json()["received"] == 1
    expected = dt.datetime.fromisoformat(sent).astimezone(dt.UTC)
    assert TelemetryEvent.objects.get().timestamp == expected


@pytest.mark.parametrize("path", ["/v1/telemetry/events", "/v1/telemetry/crash"])
def test_options_describes_the_submission(device_client, path):
    response = device_client.options(path)
    assert response.status_code == 200
    assert "POST" in response["Allow"]
    assert "POST" in response.json()["actions"]
