"""The API's JSON parser: DRF's, except that a body nested too deeply is a 400, not a 500.

Python's ``json`` raises ``RecursionError`` (not ``ValueError``, which DRF turns into a ``ParseError``) for a
document nested deeper than the interpreter's recursion limit: ``[[[[…]]]]`` of 200 000 brackets fits in
1 MiB and used to crash every JSON endpoint with an ``INTERNAL_ERROR`` (SPEC §11).
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.")
