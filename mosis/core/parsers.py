"""The one JSON parser of the API: DRF's, with a bound on nesting (SPEC §11: nothing a client sends can crash
a worker).

Python's ``json`` recurses once per nesting level, so a 1 MiB body of ``[[[[...`` raised ``RecursionError``
deep inside the parser and answered 500. No document of this API nests deeper than a handful of levels
(``event_data`` of telemetry is the deepest), so a body nested deeper than ``MAX_JSON_DEPTH`` is refused with
400 before any view sees it.
"""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH = 32


def json_depth_exceeds(value, limit: int) -> bool:
    """True when ``value`` (parsed JSON) nests containers deeper than ``limit``; iterative, so any depth the
    parser accepted is measured without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class BoundedJSONParser(JSONParser):
    """``application/json`` bodies that are an object (every request body of this API is one) nested at most
    ``MAX_JSON_DEPTH`` levels; anything else is a 400 ``VALIDATION_ERROR``. Without the first rule a body of
    ``null`` or ``[]`` reached views that read it as "no fields" and answered 200."""

    def parse(self, stream, media_type=None, parser_context=None):
        too_deep = ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep
        if json_depth_exceeds(data, MAX_JSON_DEPTH):
            raise too_deep
        if not isinstance(data, dict):
            raise ParseError("The body must be a JSON object.")
        return data
