"""One pagination for every list (SPEC §3): ``page``+``limit`` or ``offset``+``limit`` (seed 004).

Body: ``{"<items>": [...], "total": N, "pagination": {"page", "limit", "total", "total_pages", "total_exact"}}``
where ``<items>`` is the view's ``items_key`` (``apps``, ``versions``, ``keys``, ...).

A list may be bounded (browse and search: ``store.catalog.selectors.BrowseResults``): it has ``max_depth``
(the rows past it cannot be paged to: a page starting there is a 400) and ``total_exact`` after ``count()``
(False: ``total`` is the bound, there are more matches). Every other list counts exactly.
"""

import math

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_OFFSET = 1_000_000


def _int_param(request, name: str, default: int | None, minimum: int, maximum: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if raw == "":  # sent empty is a mistake to point out, not "absent" (the schema says integer)
        raise ValidationError({name: ["Must not be empty."]})
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: [f"Must be an integer between {minimum} and {maximum}."]})
    if not minimum <= value <= maximum:
        raise ValidationError({name: [f"Must be an integer between {minimum} and {maximum}."]})
    return value


class StandardPagination(BasePagination):
    items_key = "results"

    def paginate_queryset(self, queryset, request, view=None):
        self.items_key = getattr(view, "items_key", self.items_key)
        self.limit = _int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        offset = _int_param(request, "offset", None, 0, MAX_OFFSET)
        page = _int_param(request, "page", None, 1, MAX_OFFSET)
        # Both given: offset wins (seed 004 clients send offset; OpenAPI cannot express "one of").
        self.offset = offset if offset is not None else ((page or 1) - 1) * self.limit
        self.page = self.offset // self.limit + 1
        max_depth = getattr(queryset, "max_depth", None)
        if max_depth is not None and self.offset >= max_depth:
            name = "offset" if offset is not None else "page"
            raise ValidationError(
                {name: [f"Only the first {max_depth} results can be paged through: narrow the query."]}
            )
        self.total = (
            queryset.count()
            if hasattr(queryset, "count") and not isinstance(queryset, list)
            else len(queryset)
        )
        self.total_exact = getattr(queryset, "total_exact", True)
        return list(queryset[self.offset : self.offset + self.limit])

    def get_paginated_response(self, data):
        return Response(self.envelope(data))

    def envelope(self, data) -> dict:
        return {
            self.items_key: data,
            "total": self.total,
            "pagination": {
                "page": self.page,
                "limit": self.limit,
                "total": self.total,
                "total_pages": math.ceil(self.total / self.limit) if self.total else 0,
                "total_exact": self.total_exact,
            },
        }

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": [self.items_key, "total", "pagination"],
            "properties": {
                self.items_key: schema,
                "total": {"type": "integer"},
                "pagination": {"$ref": "#/components/schemas/Pagination"},
            },
        }

    def get_schema_operation_parameters(self, view):
        max_depth = getattr(view, "max_depth", None)  # a bounded list (see the module's docstring)

        def param(name, description, minimum, maximum=None):
            schema = {"type": "integer", "minimum": minimum}
            if maximum:
                schema["maximum"] = maximum
            return {
                "name": name,
                "in": "query",
                "required": False,
                "description": description,
                "schema": schema,
            }

        return [
            param("page", "1-based page number (ignored when offset is given).", 1, MAX_OFFSET),
            param("limit", f"Items per page (default {DEFAULT_LIMIT}, max {MAX_LIMIT}).", 1, MAX_LIMIT),
            param(
                "offset",
                "Number of items to skip (seed 004 style; takes precedence over page)."
                + (
                    f" Below {max_depth}: only the first {max_depth} items can be paged through."
                    if max_depth
                    else ""
                ),
                0,
                max_depth - 1 if max_depth else MAX_OFFSET,
            ),
        ]


class PaginatedListMixin:
    """For views whose items_key must be honoured by the schema as well as the body."""

    pagination_class = StandardPagination

    def get_paginator_for_schema(self):
        paginator = self.pagination_class()
        paginator.items_key = self.items_key
        return paginator
