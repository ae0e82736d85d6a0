"""Query-parameter serializers that read the query string as the OpenAPI schema declares it (SPEC §3).

DRF drops a parameter sent empty (``?status=``) as if it were absent, so a client that meant a value is told
nothing. Here a parameter present with an empty value is a 400 naming it, like any other invalid value.
"""

from __future__ import annotations

from rest_framework import serializers


class QuerySerializer(serializers.Serializer):
    """Base of every query serializer: a declared parameter sent empty is a 400 naming it."""

    def to_internal_value(self, data):
        if hasattr(data, "getlist"):
            empty = [name for name in self.fields if name in data and data.get(name) == ""]
            if empty:
                raise serializers.ValidationError({name: ["Must not be empty."] for name in empty})
        return super().to_internal_value(data)
