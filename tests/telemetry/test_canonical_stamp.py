"""``canonical_utc_stamp`` decides which timestamps COPY may take as sent: it must accept exactly the strings
``CANONICAL_UTC`` matches (the one form Python and PostgreSQL read the same way)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telemetry.services.ingest import CANONICAL_UTC, canonical_utc_stamp

# Strings near the canonical form: its characters, other digits (Arabic-Indic, full-width), other separators.
alphabet = st.sampled_from([*"0123456789", *"-T:.Z+ ,tz", "٣", "３", "é"])
near_misses = st.builds(
    lambda base, position, char: base[:position] + char + base[position + 1 :],
    st.sampled_from(["2026-12-06T10:15:00Z", "2026-12-06T10:15:00.123456Z", "2026-12-06T10:15:00.5+00:00"]),
    st.integers(0, 27),
    alphabet,
)


@settings(max_examples=1000, deadline=None)
@given(st.one_of(st.text(alphabet, max_size=30), near_misses))
def test_the_stamp_check_accepts_exactly_the_canonical_form(value):
    assert (canonical_utc_stamp(value) is not None) == (CANONICAL_UTC.fullmatch(value) is not None)


@pytest.mark.parametrize(
    "value,canonical",
    [
        ("2026-12-06T10:15:00Z", True),
        ("2026-12-06T10:15:00.123456+00:00", True),
        ("2026-12-06T10:15:00.1234567Z", False),  # Python truncates a 7th digit, PostgreSQL rounds it
        ("2026-12-06T10:15:00.Z", False),
        ("2026-12-06T10:15:00,5Z", False),
        ("2026-12-06 10:15:00Z", False),
        ("2026-12-06T10:15:00+05:30", False),
        ("2026-12-0٣T10:15:00Z", False),
    ],
)
def test_the_stamp_check_on_the_edges(value, canonical):
    assert (canonical_utc_stamp(value) == value.encode()) is canonical
    assert (CANONICAL_UTC.fullmatch(value) is not None) is canonical
