"""gunicorn's refusals in the store's error format (SPEC §3).

gunicorn answers a request it cannot parse before Django sees it: a request line over
``--limit-request-line`` (414), headers over ``--limit-request-fields``/``--limit-request-field_size`` (431),
a malformed request line or header (400). Stock gunicorn writes those as an HTML page; a client of this API
reads ``{"error": {...}}`` on every status, so the store's worker writes them as JSON with a request id.

Errors that are not the client's (a 500 from gunicorn itself, 501 for a transfer coding it does not support)
stay gunicorn's.
"""

from __future__ import annotations

import json
import uuid

from gunicorn import util
from gunicorn.http.errors import (
    InvalidHeader,
    InvalidHeaderName,
    InvalidHTTPVersion,
    InvalidRequestLine,
    InvalidRequestMethod,
    LimitRequestHeaders,
    LimitRequestLine,
    ObsoleteFolding,
)

from mosis.core.errors import ErrorCode

# exception class -> (status, reason phrase, error code, message)
_TOO_LARGE = ErrorCode.PAYLOAD_TOO_LARGE
REFUSALS = (
    (
        LimitRequestLine,
        414,
        "URI Too Long",
        _TOO_LARGE,
        "The request line (method, path and query) is too long.",
    ),
    (
        LimitRequestHeaders,
        431,
        "Request Header Fields Too Large",
        _TOO_LARGE,
        "The request headers are too large.",
    ),
    (
        (InvalidRequestLine, InvalidRequestMethod, InvalidHTTPVersion, InvalidHeader, InvalidHeaderName),
        400,
        "Bad Request",
        ErrorCode.VALIDATION_ERROR,
        "The request is not valid HTTP.",
    ),
    (ObsoleteFolding, 400, "Bad Request", ErrorCode.VALIDATION_ERROR, "The request is not valid HTTP."),
)


def refusal_for(exc: BaseException) -> tuple[int, str, str, str] | None:
    for kind, status, reason, code, message in REFUSALS:
        if isinstance(exc, kind):
            return status, reason, code, message
    return None


def refusal_response(status: int, reason: str, code: str, message: str) -> bytes:
    request_id = uuid.uuid4().hex
    body = json.dumps(
        {"error": {"code": code, "message": message, "details": {}, "request_id": request_id}}
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nX-Request-ID: {request_id}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class JsonClientErrorsMixin:
    """A gunicorn worker mixin: the client errors above are answered in the store's JSON error format."""

    def handle_error(self, req, client, addr, exc):
        refusal = refusal_for(exc)
        if refusal is None:
            return super().handle_error(req, client, addr, exc)
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        try:
            util.write_nonblock(client, refusal_response(*refusal))
        except OSError:
            self.log.debug("Failed to send error message.")
        return None
