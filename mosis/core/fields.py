"""Serializer fields that read input exactly as the OpenAPI schema declares it (SPEC §3, issue "Trust" §4).

DRF's ``CharField`` turns a JSON number into a string (``{"mosis_version": 0}`` passed as ``"0"``), so a
client that sends the wrong type is told nothing while the schema says ``type: string``. These fields
refuse what the schema would refuse; they render in the schema like their DRF parents.
"""

from __future__ import annotations

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A string, and only a string: numbers, booleans, lists and objects are a 400 naming the field.

    Also refuses NUL characters (PostgreSQL cannot store them in text; DRF already refuses them, this keeps
    the message explicit) through DRF's own ProhibitNullCharactersValidator.
    """

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)
