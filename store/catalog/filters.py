"""The browse query as a django-filter FilterSet (``mosis.core.filters``): the parameters ``GET /v1/store/apps``
reads, their types and their OpenAPI schema in one place. The filtering itself is ``selectors.store_browse``
(the HTML pages call it too), handed the validated values, so search, sorts and the Mosis version filter have
one implementation."""

from __future__ import annotations

import django_filters
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from drf_spectacular.utils import extend_schema_field

from mosis.core.filters import QueryFilterSet
from mosis.core.mosis_version import mosis_version_number
from store.models import AppListing

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


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("Must not contain NUL characters.")


class BrowseFilter(QueryFilterSet):
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
    )(django_filters.CharFilter(validators=[MaxLengthValidator(QUERY_MAX_LENGTH), _no_nul]))
    category = extend_schema_field(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": 50,
            "pattern": r"^[-a-zA-Z0-9_]+$",
            "description": "Only apps of this category (its slug).",
        }
    )(django_filters.CharFilter(validators=[MaxLengthValidator(50), *forms.SlugField.default_validators]))
    type = django_filters.ChoiceFilter(
        choices=_app_types, empty_label=None, help_text="Only apps of this type."
    )
    source = django_filters.ChoiceFilter(
        choices=_app_sources,
        empty_label=None,
        help_text="Only apps from this source (seed 004; `mosis`: published here).",
    )
    sort = extend_schema_field(
        {
            "type": "string",
            "enum": list(SORT_CHOICES),
            "description": "Order: `relevance` (the default with `q`), `popular` (the default without), "
            "`recent`, `name`, `rating`.",
        }
    )(django_filters.ChoiceFilter(choices=[(value, value) for value in SORT_CHOICES], empty_label=None))
    mosis_version = extend_schema_field(
        {
            "type": "string",
            "pattern": MOSIS_VERSION_REGEX,
            "description": "Only compatible versions, e.g. 1.4 or 1.4.2",
        }
    )(MosisVersionFilter(field_name="mosis_num"))

    class Meta:
        model = AppListing
        fields = []
