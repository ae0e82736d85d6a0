"""Request ids on every response, and JSON errors for every /v1 failure Django itself produces."""

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import Http404

from .errors import ErrorCode, error_json_response
from .request_id import request_id_from_header, reset_request_id, set_request_id

logger = logging.getLogger("mosis.request")


class RequestIdMiddleware:
    """Takes a sane ``X-Request-ID`` from the client or generates one; echoes it on every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from_header(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            return response
        finally:
            reset_request_id(token)


class ApiErrorMiddleware:
    """Turns what Django answers outside DRF under ``/v1`` (404, 405, 413, 500) into the JSON error body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Counters recorded by CategoryRateThrottle go on every API response, success or error alike.
        for name, value in getattr(request, "ratelimit_headers", {}).items():
            response[name] = value
        if (
            request.path.startswith("/v1")
            and response.status_code in (404, 405)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code = ErrorCode.NOT_FOUND if response.status_code == 404 else ErrorCode.METHOD_NOT_ALLOWED
            new = error_json_response(code)
            if response.has_header("Allow"):
                new["Allow"] = response["Allow"]
            return new
        return response

    def process_exception(self, request, exception):
        if not request.path.startswith("/v1"):
            return None
        if isinstance(exception, Http404):
            return error_json_response(ErrorCode.NOT_FOUND)
        if isinstance(exception, RequestDataTooBig):
            return error_json_response(ErrorCode.PAYLOAD_TOO_LARGE)
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_json_response(ErrorCode.INTERNAL_ERROR)
