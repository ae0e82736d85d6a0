"""Query parameters of list and read endpoints, declared once as django-filter FilterSets (SPEC §3).

A view names its ``filterset_class`` (a :class:`QueryFilterSet`) and reads ``self.query_filters()``
(:class:`QueryFiltersMixin`): the parameters that were sent, validated and converted to plain values, ready for
the selector that builds the query (selectors own their queries, so the portal and the API share them). The
OpenAPI schema documents the same declaration (``mosis.core.schema.filterset_parameters``), so
what the schema states and what the server accepts cannot drift apart.

The rules, as for request bodies: a declared parameter sent empty (``?status=``) is a 400 "Must not be
empty." naming it (never read as "absent": a client that meant a value would be told nothing); a value of
the wrong type, outside its choices or too long is a 400 naming it; both in the error body of
``mosis.core.errors``. Parameters that are not declared are ignored.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django_filters.utils import translate_validation
from rest_framework.exceptions import ValidationError

EMPTY_MESSAGE = "Must not be empty."


class StrictCharFilter(django_filters.CharFilter):
    """A text parameter taken as sent (no stripping: the schema's ``minLength: 1`` holds for " ")."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("strip", False)
        super().__init__(*args, **kwargs)


class QueryFilterSet(django_filters.FilterSet):
    """Declared parameters → plain values (``params()``), or a 400 naming every bad one.

    Each filter's ``field_name`` is the keyword its value is handed to the selector under (the parameter's
    own name unless set). ``Meta.model`` names the rows the parameters select (django-filter wants one;
    ``Meta.fields = []``: every parameter is declared). Subclasses may override :meth:`clean_params` for
    rules across parameters.
    """

    def params(self) -> dict[str, Any]:
        errors: dict[str, list] = {
            name: [EMPTY_MESSAGE] for name in self.filters if name in self.data and self.data.get(name) == ""
        }
        if not self.form.is_valid():
            errors.update(translate_validation(self.form.errors).detail)
        if errors:
            raise ValidationError(errors)
        values = {
            (self.filters[name].field_name or name): value
            for name, value in self.form.cleaned_data.items()
            if value is not None and value != ""
        }
        return self.clean_params(values)

    def clean_params(self, values: dict[str, Any]) -> dict[str, Any]:
        """Rules across parameters; raise ``ValidationError({parameter: [message]})``."""
        return values


class QueryFiltersMixin:
    """For generic views and viewsets whose GET (``list`` for a viewset) reads ``filterset_class``."""

    filterset_class: type[QueryFilterSet] | None = None

    def query_filters(self) -> dict[str, Any]:
        """The validated query parameters as the selector's keyword arguments (a 400 if any is bad)."""
        if self.filterset_class is None:
            return {}
        return self.filterset_class(self.request.query_params, request=self.request).params()
