"""Request ids on every response, and JSON errors for every /v1 failure Django itself produces."""

import logging
import time

from django.core.exceptions import RequestDataTooBig
from django.http import Http404

from .errors import ErrorCode, error_json_response, is_outage, outage_json_response, payload_too_large_message
from .ratelimit import rate_limit_record, response_headers
from .request_id import request_id_from_header, reset_request_id, set_request_id
from .siteurl import reset_request_base, set_request_base

logger = logging.getLogger("mosis.request")

# Statuses Django (not DRF) may answer under /v1 with an HTML page, and the error code each becomes.
_CODE_BY_STATUS = {
    400: ErrorCode.VALIDATION_ERROR,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    429: ErrorCode.RATE_LIMITED,
    500: ErrorCode.INTERNAL_ERROR,
    503: ErrorCode.SERVICE_UNAVAILABLE,
}
# Headers a converted error keeps from the original response.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def is_api_path(path: str) -> bool:
    return path == "/v1" or path.startswith("/v1/")


class RequestIdMiddleware:
    """Takes a sane ``X-Request-ID`` from the client or generates one; echoes it on every response.

    Also remembers the request's ``scheme://host`` for absolute URLs (``mosis.core.siteurl``).

    Also writes one access-log line per request (``mosis.request``), carrying the id like every record.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from_header(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        token = set_request_id(request_id)
        base_token = set_request_base(request)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
            return response
        finally:
            reset_request_base(base_token)
            reset_request_id(token)


class ApiErrorMiddleware:
    """Turns what Django answers outside DRF under ``/v1`` (400, 403, 404, 405, 413, 500, ...) into the JSON
    error body, and puts the rate-limit headers the request's count recorded on ``/v1`` responses, except
    a public anonymous read's (``mosis.core.ratelimit.response_headers``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rate_limit_record(request)  # shared by the fast path, DRF's throttle and the headers below
        response = self.get_response(request)
        if not is_api_path(request.path):
            return response
        if (
            response.status_code in _CODE_BY_STATUS
            and not response.get("Content-Type", "").startswith("application/json")
            and not getattr(response, "streaming", False)
        ):
            new = error_json_response(_CODE_BY_STATUS[response.status_code])
            for name in _KEPT_HEADERS:
                if response.has_header(name):
                    new[name] = response[name]
            response = new
        # The count the fast path or the throttle made (no cache read here): personal answers and 429s only.
        for name, value in response_headers(request, response.status_code).items():
            response[name] = value
        return response

    def process_exception(self, request, exception):
        if not is_api_path(request.path):
            return None
        if isinstance(exception, Http404):
            return error_json_response(ErrorCode.NOT_FOUND)
        if isinstance(exception, RequestDataTooBig):
            return error_json_response(ErrorCode.PAYLOAD_TOO_LARGE, payload_too_large_message())
        if is_outage(exception):
            logger.error("database unreachable on %s %s: %s", request.method, request.path, exception)
            return outage_json_response()
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_json_response(ErrorCode.INTERNAL_ERROR)
