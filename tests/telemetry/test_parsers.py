"""The telemetry batch parser (telemetry.parsers): orjson when it reads exactly what ``json`` reads."""

import io
import json

import pytest
from rest_framework.exceptions import ParseError

from telemetry.parsers import BatchJSONParser, has_long_digit_run


def parse(body: bytes):
    return BatchJSONParser().parse(io.BytesIO(body), "application/json", {})


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
def test_it_reads_exactly_what_json_reads(body):
    assert parse(body) == json.loads(body)


@pytest.mark.parametrize("body", [b'{"k": NaN}', b'{"k": ', b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000])
def test_it_refuses_what_the_api_refuses_with_a_400(body):
    with pytest.raises(ParseError):
        parse(body)


def test_long_digit_runs_are_found():
    assert has_long_digit_run(b'{"n": 1234567890123456789}')
    assert not has_long_digit_run(b'{"n": 123456789012345678, "t": "2026-12-04T10:15:00Z"}')
