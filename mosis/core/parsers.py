"""The API's JSON parser: DRF's, except that a body nested too deeply is a 400, not a 500.

Python's ``json`` raises ``RecursionError`` (not ``ValueError``, which DRF turns into a ``ParseError``) for a
document nested deeper than the interpreter's recursion limit: ``[[[[…]]]]`` of 200 000 brackets fits in
1 MiB and used to crash every JSON endpoint with an ``INTERNAL_ERROR`` (SPEC §11).
"""

import io

import orjson
from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.")


# An integer of 19 digits or more may not fit in 64 bits, which orjson would turn into a float. Found by
# mapping every digit to "0" and everything else to "x", then looking for 19 zeros: ~10x faster than a regex.
_DIGITS_AS_ZEROS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x78 for byte in range(256))
_LONG_DIGIT_RUN = b"0" * 19


def _has_long_digit_run(body: bytes) -> bool:
    return body.translate(_DIGITS_AS_ZEROS).find(_LONG_DIGIT_RUN) != -1


class FastJSONParser(JSONParser):
    """For large bodies on hot endpoints (telemetry batches): parsed by orjson, ~3x faster than ``json``,
    whenever that gives exactly what ``json`` gives; otherwise by ``JSONParser``.

    orjson differs from ``json`` on three kinds of input, all sent to the standard parser instead: integers
    beyond 64 bits (orjson makes them floats; any run of 19+ digits falls back, even inside a string), and
    what orjson refuses outright (an unpaired surrogate escape, a number overflowing to infinity, NaN,
    nesting beyond 1 024 levels), which ``json`` either reads the way the rest of the API does or answers
    with the same 400.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        body = stream.read() if stream is not None else b""
        if encoding.lower().replace("-", "") == "utf8" and not _has_long_digit_run(body):
            try:
                return orjson.loads(body)
            except orjson.JSONDecodeError:
                pass  # the standard parser decides, with its own messages
        return super().parse(io.BytesIO(body), media_type, parser_context)
