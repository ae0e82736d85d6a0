"""drf-spectacular wiring: every operation documents the error body of SPEC §3 for the statuses it can answer."""

from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from drf_spectacular.drainage import get_override
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_choice_description_list, build_parameter_type, get_doc
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

ERROR_REF = {"$ref": "#/components/schemas/Error"}
# DRF's CharField refuses NUL characters (PostgreSQL cannot store them); the schema says so.
NO_NUL_PATTERN = "^[^\\u0000]*$"


ERROR_DESCRIPTIONS = {
    400: "VALIDATION_ERROR: invalid input; field errors in details",
    401: "UNAUTHORIZED: missing, invalid, expired or revoked credentials",
    403: "FORBIDDEN: the credential lacks a scope or the caller may not do this",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT: the object's state does not allow this",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED: see Retry-After",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE: a backend the operation needs is down; retry later",
}


class MosisAutoSchema(AutoSchema):
    """Adds the shared error responses to every operation (views may add or override their own), names the
    list key of paginated responses after the view's ``items_key``, documents blank URL fields, that
    text fields refuse NUL characters, and that a serializer with ``refuses_unknown_fields`` takes no other
    field."""

    def _get_paginator(self):
        paginator = super()._get_paginator()
        if paginator is not None and getattr(self.view, "items_key", None):
            # StandardPagination reads items_key from the view at request time; the schema must agree.
            paginator.items_key = self.view.items_key
        return paginator

    def get_description(self):
        # An endpoint's description is its method's docstring, else its view class's: never a mixin's
        # docstring (PaginatedListMixin, QueryFiltersMixin), which describes code, not the endpoint.
        handler = getattr(self.view, getattr(self.view, "action", None) or self.method.lower(), None)
        own = get_doc(handler)
        if own:
            return own
        library = tuple(spectacular_settings.GET_LIB_DOC_EXCLUDES())
        for cls in type(self.view).__mro__:
            if cls in library:
                break
            if cls.__name__.endswith("Mixin") or not cls.__doc__:
                continue
            return get_doc(cls)
        return ""

    def _get_filter_parameters(self):
        # A view's query parameters are its ``filterset_class`` (``mosis.core.filters``), read by its GET
        # (a viewset's ``list`` only): documented from the same declaration the server validates with.
        filterset_class = getattr(self.view, "filterset_class", None)
        if filterset_class is None or self.method != "GET":
            return super()._get_filter_parameters()
        if getattr(self.view, "action", None) not in (None, "list"):
            return []
        return filterset_parameters(filterset_class)

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        refuses_nul = any(isinstance(v, ProhibitNullCharactersValidator) for v in field.validators)
        if refuses_nul and not field.read_only and not {"pattern", "format", "enum"} & schema.keys():
            schema["pattern"] = NO_NUL_PATTERN
        blank_possible = isinstance(field, serializers.URLField) and (field.allow_blank or field.read_only)
        if blank_possible and schema.get("format") == "uri":
            # An optional URL is stored and returned as "" (read-only output is never validated), which is
            # not a "uri": document both.
            schema.pop("format")
            schema["anyOf"] = [{"format": "uri"}, {"maxLength": 0}]

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and getattr(serializer, "refuses_unknown_fields", False):
            schema["additionalProperties"] = False  # the view answers 400 naming a field it does not know
        if direction == "response":
            _drop_no_nul_patterns(schema)  # a rule of what the server reads, not of what it writes
        return schema

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        public = not self.get_auth() or getattr(self.view, "schema_public", False)
        statuses = [400, 404, 405, 415, 429, 500, *getattr(self.view, "extra_error_statuses", ())]
        if not public:
            statuses += [401, 403]
        if self.method in ("POST", "PUT", "PATCH"):
            statuses += [409, 413]
        elif self.method == "DELETE":
            statuses += [409]  # the object's state forbids it (a published app, a published version)
        for status in statuses:
            key = str(status)
            if key not in responses:
                responses[key] = {
                    "content": {"application/json": {"schema": ERROR_REF}},
                    "description": ERROR_DESCRIPTIONS[status],
                }
        return responses


def _drop_no_nul_patterns(node) -> None:
    """Remove ``NO_NUL_PATTERN`` from a response schema (inline parts only; components are their own)."""
    if isinstance(node, dict):
        if node.get("pattern") == NO_NUL_PATTERN:
            del node["pattern"]
        for value in node.values():
            _drop_no_nul_patterns(value)
    elif isinstance(node, list):
        for value in node:
            _drop_no_nul_patterns(value)


def _drop_defaults_that_break_their_schema(node) -> None:
    """``CharField(default="")`` without ``allow_blank`` documents ``default: ""`` next to ``minLength: 1``.

    DRF fills the default without validating it, so the server is right, but OpenAPI requires a default to
    satisfy its own schema (openapi-spec-validator and schemathesis refuse the document). The default is only
    documentation, so it is dropped where it contradicts the constraints.
    """
    if isinstance(node, dict):
        default = node.get("default")
        if isinstance(default, str) and len(default) < node.get("minLength", 0):
            del node["default"]
        for value in node.values():
            _drop_defaults_that_break_their_schema(value)
    elif isinstance(node, list):
        for value in node:
            _drop_defaults_that_break_their_schema(value)


def pagination_component_hook(result, generator, request, public):
    """Registers the shared ``Pagination`` and ``Error`` components used by every list and error response,
    and removes self-contradicting defaults (see above)."""
    _drop_defaults_that_break_their_schema(result)
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        "Pagination",
        {
            "type": "object",
            "required": ["page", "limit", "total", "total_pages", "total_exact"],
            "properties": {
                "page": {"type": "integer"},
                "limit": {"type": "integer"},
                "total": {
                    "type": "integer",
                    "description": "Number of items; when total_exact is false, a lower bound (the items "
                    "that can be paged through).",
                },
                "total_pages": {"type": "integer", "description": "Pages of `limit` items in `total`."},
                "total_exact": {
                    "type": "boolean",
                    "description": "False when there are more items than `total` (browse and search count "
                    "their first 1000 matches, docs/api/conventions.md).",
                },
            },
        },
    )
    schemas.setdefault(
        "Error",
        {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message", "details", "request_id"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "details": {"type": "object", "additionalProperties": True},
                        "request_id": {"type": "string"},
                    },
                }
            },
        },
    )
    return result


def _field_schema(field: forms.Field) -> dict:
    if isinstance(field, forms.ChoiceField):
        return {"enum": [value for value, _ in field.choices], "type": "string", "minLength": 1}
    if isinstance(field, forms.UUIDField):
        return {"type": "string", "format": "uuid"}
    if isinstance(field, forms.DateTimeField):
        return {"type": "string", "format": "date-time"}
    if isinstance(field, forms.DateField):
        return {"type": "string", "format": "date"}
    if isinstance(field, forms.IntegerField):
        schema = {"type": "integer"}
        if field.min_value is not None:
            schema["minimum"] = field.min_value
        if field.max_value is not None:
            schema["maximum"] = field.max_value
        return schema
    if isinstance(field, forms.CharField):
        schema = {"type": "string", "minLength": 1}
        if field.max_length is not None:
            schema["maxLength"] = field.max_length
        schema["pattern"] = NO_NUL_PATTERN  # Django's form fields refuse NUL characters
        return schema
    raise TypeError(f"No schema for the query parameter field {type(field).__name__}.")


def filterset_parameters(filterset_class: type) -> list[dict]:
    """The OpenAPI parameters of a ``mosis.core.filters.QueryFilterSet``: each declared parameter's type and
    bounds as its form field checks them, ``minLength: 1`` for text (an empty value is a 400), its help text
    and choices."""
    parameters = []
    for name, declared in filterset_class.base_filters.items():
        field = declared.field
        description = str(field.help_text or "")
        override = get_override(declared, "field")  # a schema stated with extend_schema_field, as a dict
        if isinstance(override, dict):
            schema = {key: value for key, value in override.items() if key != "description"}
            description = override.get("description", description)
        else:
            schema = _field_schema(field)
        if isinstance(field, forms.ChoiceField) and not (isinstance(override, dict) and "enum" in override):
            choices = build_choice_description_list(list(field.choices))
            description = f"{description}\n\n{choices}" if description else choices
        parameters.append(
            build_parameter_type(
                name=name,
                location=OpenApiParameter.QUERY,
                schema=schema,
                description=description or None,
                required=bool(declared.extra.get("required")),
            )
        )
    return parameters
