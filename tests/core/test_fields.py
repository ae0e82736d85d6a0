"""Strict input fields: the server refuses what the schema declares it refuses."""

import pytest
from rest_framework import serializers

from mosis.core.fields import StrictCharField


class Probe(serializers.Serializer):
    name = StrictCharField(max_length=10)


@pytest.mark.parametrize("value", [0, 1.5, True, ["a"], {"a": 1}])
def test_a_string_field_refuses_other_json_types(value):
    serializer = Probe(data={"name": value})
    assert not serializer.is_valid()
    assert serializer.errors["name"] == ["Must be a string."]


def test_a_string_field_still_reads_strings_and_its_bounds():
    assert Probe(data={"name": "notes"}).is_valid()
    assert not Probe(data={"name": "x" * 11}).is_valid()
    assert not Probe(data={"name": "a\x00b"}).is_valid()
