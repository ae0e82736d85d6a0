"""Query-parameter serializers and filtersets that read the query string as the OpenAPI schema declares it (SPEC §3).

DRF drops a parameter sent empty (``?status=``) as if it were absent, so a client that meant a value is told
nothing. Here a parameter present with an empty value is a 400 naming it, like any other invalid value.
"""

from __future__ import annotations

from django_filters.rest_framework import FilterSet
from rest_framework import serializers


class QuerySerializer(serializers.Serializer):
    """Base of every query serializer: a declared parameter sent empty is a 400 naming it."""

    def to_internal_value(self, data):
        if hasattr(data, "getlist"):
            empty = [name for name in self.fields if name in data and data.get(name) == ""]
            if empty:
                raise serializers.ValidationError({name: ["Must not be empty."] for name in empty})
        return super().to_internal_value(data)


class StrictFilterSet(FilterSet):
    """Base of every FilterSet: a declared parameter sent empty is an error naming it (django-filter, like DRF,
    would read it as absent), so with ``DjangoFilterBackend`` it is a 400 like any other invalid value."""

    def is_valid(self):
        valid = self.form.is_valid()
        data = self.form.data
        for name in self.filters:
            if name in data and data.get(name) == "" and name not in self.form.errors:
                self.form.add_error(name, "Must not be empty.")
                valid = False
        return valid
