"""The API's JSON parser (mosis.core.parsers): a body nested deeper than Python's recursion limit is a 400
with the SPEC §3 body, not a 500 (SPEC §11: nothing a client sends can crash a worker)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("opening,closing", [("[", "]"), ('{"a":', "}")])
def test_json_nested_too_deeply_is_a_400(auth_client, opening, closing):
    depth = 100_000
    response = auth_client.post(
        "/v1/apps", opening * depth + "1" + closing * depth, content_type="application/json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert "nested too deeply" in error["message"]


def test_ordinary_nesting_still_parses(auth_client):
    response = auth_client.post(
        "/v1/apps",
        '{"package_id": "com.example.nested", "name": "Nested", "tags": ["a", "b"]}',
        content_type="application/json",
    )
    assert response.status_code == 201


# --- FastJSONParser: orjson when it gives exactly what json gives ---------------------------------------------


def fast_parse(body: bytes):
    import io

    from mosis.core.parsers import FastJSONParser

    return FastJSONParser().parse(io.BytesIO(body), "application/json", {})


@pytest.mark.parametrize(
    "body",
    [
        b'{"events": [{"n": 1, "f": 1.5, "s": "caf\\u00e9 \\ud83d\\ude00", "t": true, "z": null, "a": [1, {}]}]}',
        b'{"big": 123456789012345678901234567890, "edge": 18446744073709551616}',  # beyond 64 bits: json's
        b'{"k": "\\ud800"}',  # an unpaired surrogate: orjson refuses, json reads it
        b'{"k": 1e400}',  # overflows to infinity in json; orjson refuses
        b'{"a": 1, "a": 2}',
        b"[" * 500 + b"]" * 500,
    ],
)
def test_the_fast_parser_reads_exactly_what_json_reads(body):
    import json

    assert fast_parse(body) == json.loads(body)


@pytest.mark.parametrize("body", [b'{"k": NaN}', b'{"k": ', b"\xff\xfe"])
def test_the_fast_parser_refuses_what_the_api_refuses(body):
    from rest_framework.exceptions import ParseError

    with pytest.raises(ParseError):
        fast_parse(body)
