"""SPEC §3 request ids: echoed when sane, generated otherwise, in error bodies and in every log record."""

import json
import logging
import re

import pytest

from mosis.core.logging import JsonFormatter, RequestIdFilter
from mosis.core.request_id import current_request_id, request_id_from_header

pytestmark = [pytest.mark.urls("tests.core.probe_urls"), pytest.mark.django_db]

GENERATED = re.compile(r"^[0-9a-f]{32}$")


@pytest.mark.parametrize(
    "sane", ["abc-123", "7f9c2ba4-e88f-11ee-8c90-0242ac120002", "lb:edge.1_2", "x" * 128]
)
def test_a_sane_request_id_is_echoed(api_client, sane):
    response = api_client.get("/v1/_probe/public", HTTP_X_REQUEST_ID=sane)
    assert response["X-Request-ID"] == sane


@pytest.mark.parametrize(
    "insane", ["x" * 129, "bad\x01id", "has space", "new\nline", 'quote"s', "ünïcode", ""]
)
def test_an_insane_or_missing_request_id_is_replaced(api_client, insane):
    response = api_client.get("/v1/_probe/public", HTTP_X_REQUEST_ID=insane)
    assert GENERATED.match(response["X-Request-ID"])


def test_a_request_id_is_generated_when_absent_and_differs_per_request(api_client):
    first = api_client.get("/v1/_probe/public")["X-Request-ID"]
    second = api_client.get("/v1/_probe/public")["X-Request-ID"]
    assert GENERATED.match(first) and GENERATED.match(second) and first != second


def test_request_id_is_on_non_api_responses_too(client):
    assert client.get("/definitely-not-a-page/")["X-Request-ID"]


def test_error_bodies_carry_the_request_id(api_client):
    response = api_client.get("/v1/no/such/thing", HTTP_X_REQUEST_ID="trace-404")
    assert response.json()["error"]["request_id"] == "trace-404"
    response = api_client.post("/v1/_probe/echo", {}, format="json", HTTP_X_REQUEST_ID="trace-401")
    assert response.json()["error"]["request_id"] == "trace-401"


def test_the_request_id_is_reset_after_the_request(api_client):
    api_client.get("/v1/_probe/public", HTTP_X_REQUEST_ID="leaky")
    assert current_request_id() == "-"


def test_every_log_record_of_a_request_carries_its_id(api_client, caplog):
    with caplog.at_level(logging.INFO, logger="mosis.request"):
        api_client.get("/v1/_probe/public", HTTP_X_REQUEST_ID="log-me")
    access = [r for r in caplog.records if r.name == "mosis.request"]
    assert len(access) == 1
    assert access[0].request_id == "log-me"
    assert access[0].status == 200 and access[0].path == "/v1/_probe/public"


def test_json_formatter_writes_one_json_object_per_line_with_the_request_id():
    formatter = JsonFormatter()
    record = logging.LogRecord("mosis.test", logging.INFO, __file__, 1, "hello %s\nworld", ("there",), None)
    record.request_id = "rid-1"
    record.status = 201
    record.obj = object()
    line = formatter.format(record)
    assert "\n" not in line
    payload = json.loads(line)
    assert payload["message"] == "hello there\nworld"
    assert payload["request_id"] == "rid-1"
    assert payload["level"] == "INFO" and payload["logger"] == "mosis.test"
    assert payload["status"] == 201
    assert payload["obj"].startswith("<object")
    assert payload["ts"].endswith("+00:00")


def test_json_formatter_includes_the_exception_on_the_same_line():
    try:
        raise ValueError("bad")
    except ValueError:
        import sys

        record = logging.LogRecord("m", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "ValueError: bad" in json.loads(line)["exc"]


def test_request_id_filter_fills_records_made_outside_requests():
    record = logging.LogRecord("m", logging.INFO, __file__, 1, "x", (), None)
    assert RequestIdFilter().filter(record) is True
    assert record.request_id == "-"


def test_request_id_from_header_contract():
    assert request_id_from_header("ok-1") == "ok-1"
    assert GENERATED.match(request_id_from_header(None))
    assert GENERATED.match(request_id_from_header("a" * 200))
