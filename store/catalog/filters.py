"""The browse query as a django-filter FilterSet: the parameters ``GET /v1/store/apps`` reads, their types and
their OpenAPI schema in one place. The filtering itself is ``selectors.store_browse`` (the HTML pages call it
too), so search, sorts and the Mosis version filter have one implementation."""

from __future__ import annotations

import django_filters
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from mosis.core.mosis_version import mosis_version_number
from mosis.core.query import StrictFilterSet

from . import selectors
from .serializers import MOSIS_VERSION_REGEX, SORT_CHOICES

QUERY_MAX_LENGTH = 200


class MosisVersionFormField(forms.RegexField):
    """A Mosis version string ("1.2" / "1.2.3"); cleaned to its sortable number."""

    def __init__(self, **kwargs):
        super().__init__(MOSIS_VERSION_REGEX, **kwargs)
        self.error_messages["invalid"] = "Must be a Mosis version like 1.2 or 1.2.3."

    def clean(self, value):
        value = super().clean(value)
        return mosis_version_number(value) if value else None


class MosisVersionFilter(django_filters.Filter):
    field_class = MosisVersionFormField


def _app_types():
    return [(value, value) for value in settings.APP_TYPES]  # read per request: a changed setting applies


def _app_sources():
    return [(value, value) for value in settings.APP_SOURCES]


class _AppTypeSchema(serializers.ChoiceField):
    """The ``type`` parameter's schema, built when the schema is (so it lists the configured types)."""

    def __init__(self, **kwargs):
        super().__init__(choices=settings.APP_TYPES, help_text="Only apps of this type.", **kwargs)


class _AppSourceSchema(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            choices=settings.APP_SOURCES,
            help_text="Only apps from this source (seed 004; `mosis`: published here).",
            **kwargs,
        )


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("Must not contain NUL characters.")


class BrowseFilter(StrictFilterSet):
    """Browse and search parameters (docs/api/store.md "Browse and search"). Absent = no filter; sent empty
    or malformed = 400 naming the parameter."""

    q = extend_schema_field(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": QUERY_MAX_LENGTH,
            "pattern": "^[^\\u0000]*$",
            "description": "Search words (name, tags, description; exact package id or name first).",
        }
    )(django_filters.CharFilter(method="keep", validators=[MaxLengthValidator(QUERY_MAX_LENGTH), _no_nul]))
    category = extend_schema_field(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": 50,
            "pattern": r"^[-a-zA-Z0-9_]+$",
            "description": "Only apps of this category (its slug).",
        }
    )(
        django_filters.CharFilter(
            method="keep", validators=[MaxLengthValidator(50), *forms.SlugField.default_validators]
        )
    )
    type = extend_schema_field(_AppTypeSchema)(django_filters.ChoiceFilter(choices=_app_types, method="keep"))
    source = extend_schema_field(_AppSourceSchema)(
        django_filters.ChoiceFilter(choices=_app_sources, method="keep")
    )
    sort = extend_schema_field(
        {
            "type": "string",
            "enum": list(SORT_CHOICES),
            "description": "Order: `relevance` (the default with `q`), `popular` (the default without), "
            "`recent`, `name`, `rating`.",
        }
    )(django_filters.ChoiceFilter(choices=[(value, value) for value in SORT_CHOICES], method="keep"))
    mosis_version = extend_schema_field(
        {
            "type": "string",
            "pattern": MOSIS_VERSION_REGEX,
            "description": "Only compatible versions, e.g. 1.4 or 1.4.2",
        }
    )(MosisVersionFilter(method="keep"))

    def keep(self, queryset, name, value):
        return queryset  # every parameter is applied at once by filter_queryset

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        return selectors.store_browse(
            q=data.get("q") or "",
            category=data.get("category") or "",
            type=data.get("type") or "",
            source=data.get("source") or "",
            sort=data.get("sort") or "",
            mosis_num=data.get("mosis_version"),
        )
