"""``crash_report_input`` reads plainly valid crash reports without building the serializer: whatever it is
given, it must answer exactly what ``CrashReportInputSerializer`` answers (the same validated data, or the same
errors)."""

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from telemetry.serializers import CrashReportInputSerializer, crash_report_input

FIELDS = ("app_id", "app_version", "crash_type", "message", "stack_trace", "context", "timestamp")

# Strings around every bound (64, 200, 4 096, 65 536 and 40 characters), with what DRF trims or refuses:
# surrounding whitespace, NUL, unpaired surrogates, non-ASCII text.
texts = st.one_of(
    st.text(max_size=12),
    st.text(alphabet=st.characters(codec=None), max_size=6),  # surrogates included
    st.sampled_from(["", " ", "\t", " 1.4.0 ", "a\x00b", "\ud800", "é", "2026-12-04T10:15:00Z"]),
    st.builds(
        lambda char, count: char * count,
        st.sampled_from(["a", " ", "é", "\x00"]),
        st.sampled_from([39, 40, 41, 63, 64, 65, 199, 200, 201, 4095, 4096, 4097, 65536, 65537]),
    ),
)
values = st.one_of(
    texts,
    st.builds(lambda: str(uuid.uuid4())),
    st.builds(lambda: uuid.uuid4().hex),
    st.integers(),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(
        st.text(max_size=3), st.one_of(st.integers(), st.text(max_size=3), st.none()), max_size=3
    ),
)
reports = st.dictionaries(st.sampled_from([*FIELDS, "extra"]), values)


def plainly_valid_report() -> dict:
    return {
        "app_id": str(uuid.uuid4()),
        "app_version": "1.4.0",
        "crash_type": "java.lang.NullPointerException",
        "message": "Attempt to read user 4711",
        "stack_trace": "    at com.example.Editor.save(Editor.java:212)\n",
        "context": {"os": "mosis 1.5"},
    }


def serializer_answer(data):
    serializer = CrashReportInputSerializer(data=data)
    if serializer.is_valid():
        return "valid", dict(serializer.validated_data)
    return "invalid", serializer.errors


def fast_answer(data):
    try:
        return "valid", dict(crash_report_input(data))
    except ValidationError as error:
        return "invalid", error.detail


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        reports,
        st.builds(
            lambda base, extra: {**base, **extra},
            st.builds(plainly_valid_report),
            reports,
        ),
    )
)
def test_crash_report_input_answers_what_the_serializer_answers(data):
    assert fast_answer(data) == serializer_answer(data)


@pytest.mark.parametrize(
    "data",
    [
        plainly_valid_report(),
        {**plainly_valid_report(), "app_version": " 1.4.0 ", "timestamp": " 2026-12-04T10:15:00Z "},
        {**plainly_valid_report(), "message": "  spaced  ", "stack_trace": ""},
        {key: value for key, value in plainly_valid_report().items() if key not in ("message", "context")},
        {**plainly_valid_report(), "message": "\ud800"},
        {**plainly_valid_report(), "crash_type": "   "},
        {**plainly_valid_report(), "context": None},
        ["not", "an", "object"],
    ],
)
def test_crash_report_input_on_the_edges(data):
    assert fast_answer(data) == serializer_answer(data)
