"""One error contract (SPEC §3): every failure renders
``{"error": {"code", "message", "details", "request_id"}}``.

Services raise :class:`ApplicationError`; DRF exceptions, Django's 404/405/413 and unhandled exceptions are
translated here, so views never build error bodies themselves.
"""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

from .request_id import current_request_id

logger = logging.getLogger("mosis.errors")


class ErrorCode:
    UNAUTHORIZED = "UNAUTHORIZED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    CONFLICT = "CONFLICT"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    RATE_LIMITED = "RATE_LIMITED"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


STATUS_BY_CODE = {
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.VALIDATION_ERROR: 400,
    ErrorCode.CONFLICT: 409,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.INTERNAL_ERROR: 500,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
}

DEFAULT_MESSAGES = {
    ErrorCode.UNAUTHORIZED: "Authentication credentials were missing or invalid.",
    ErrorCode.FORBIDDEN: "You do not have permission to perform this action.",
    ErrorCode.NOT_FOUND: "Not found.",
    ErrorCode.METHOD_NOT_ALLOWED: "Method not allowed.",
    ErrorCode.VALIDATION_ERROR: "Invalid request.",
    ErrorCode.CONFLICT: "Conflict.",
    ErrorCode.PAYLOAD_TOO_LARGE: "Request body too large.",
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: "Unsupported media type.",
    ErrorCode.RATE_LIMITED: "Too many requests.",
    ErrorCode.INTERNAL_ERROR: "Internal server error.",
    ErrorCode.SERVICE_UNAVAILABLE: "Service unavailable.",
}


class ApplicationError(Exception):
    """A business-rule failure raised by services; rendered by the one handler below."""

    def __init__(self, code: str, message: str | None = None, details: dict | None = None, *, headers=None):
        self.code = code
        self.message = message or DEFAULT_MESSAGES.get(code, code)
        self.details = details or {}
        self.headers = headers or {}
        super().__init__(self.message)

    @property
    def status(self) -> int:
        return STATUS_BY_CODE.get(self.code, 400)


# A backend the request needs is out of reach: the client should come back, not report a bug (SPEC §3 503).
OUTAGE_ERRORS = (OperationalError, InterfaceError)
OUTAGE_RETRY_AFTER_SECONDS = 30
OUTAGE_MESSAGE = "The store's database is unreachable right now; retry shortly."


def is_outage(exc: BaseException | None) -> bool:
    """True for the database errors that mean "unreachable" (connection refused, lost, closed)."""
    return isinstance(exc, OUTAGE_ERRORS)


def outage_json_response() -> JsonResponse:
    """503 ``SERVICE_UNAVAILABLE`` with ``Retry-After`` (nothing was written: the database is not there)."""
    response = error_json_response(ErrorCode.SERVICE_UNAVAILABLE, OUTAGE_MESSAGE)
    response["Retry-After"] = str(OUTAGE_RETRY_AFTER_SECONDS)
    return response


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": details or {},
            "request_id": current_request_id(),
        }
    }


def error_json_response(code: str, message: str | None = None, details=None, status=None) -> JsonResponse:
    return JsonResponse(
        error_body(code, message or DEFAULT_MESSAGES[code], details), status=status or STATUS_BY_CODE[code]
    )


def payload_too_large_message() -> str:
    """DRF's JSON parsing reads ``request.body``, where Django enforces ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""
    return f"Request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."


def _flatten_field_errors(detail) -> dict:
    """DRF's nested error detail → ``{"field": [messages]}`` (nested fields joined with dots)."""
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value):
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list):
            if all(not isinstance(v, dict | list) for v in value):
                out.setdefault(prefix or "non_field_errors", []).extend(str(v) for v in value)
            else:
                for index, sub in enumerate(value):
                    walk(f"{prefix}.{index}" if prefix else str(index), sub)
        else:
            out.setdefault(prefix or "non_field_errors", []).append(str(value))

    walk("", detail)
    return out


def _first_message(details: dict) -> str:
    for field, messages in details.items():
        if messages:
            return messages[0] if field == "non_field_errors" else f"{field}: {messages[0]}"
    return DEFAULT_MESSAGES[ErrorCode.VALIDATION_ERROR]


_DRF_CODE_MAP = {
    drf_exceptions.NotAuthenticated: ErrorCode.UNAUTHORIZED,
    drf_exceptions.AuthenticationFailed: ErrorCode.UNAUTHORIZED,
    drf_exceptions.PermissionDenied: ErrorCode.FORBIDDEN,
    drf_exceptions.NotFound: ErrorCode.NOT_FOUND,
    drf_exceptions.MethodNotAllowed: ErrorCode.METHOD_NOT_ALLOWED,
    drf_exceptions.UnsupportedMediaType: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    drf_exceptions.Throttled: ErrorCode.RATE_LIMITED,
    drf_exceptions.ParseError: ErrorCode.VALIDATION_ERROR,
    drf_exceptions.ValidationError: ErrorCode.VALIDATION_ERROR,
    drf_exceptions.NotAcceptable: ErrorCode.VALIDATION_ERROR,
}


def api_exception_handler(exc, context):
    """DRF EXCEPTION_HANDLER: everything raised in a view becomes the SPEC §3 body."""
    headers = {}
    if isinstance(exc, ApplicationError):
        code, message, details, headers = exc.code, exc.message, exc.details, exc.headers
    elif isinstance(exc, Http404):
        code, message, details = ErrorCode.NOT_FOUND, DEFAULT_MESSAGES[ErrorCode.NOT_FOUND], {}
    elif isinstance(exc, PermissionDenied):
        code, message, details = ErrorCode.FORBIDDEN, DEFAULT_MESSAGES[ErrorCode.FORBIDDEN], {}
    elif isinstance(exc, RequestDataTooBig):
        code, message, details = ErrorCode.PAYLOAD_TOO_LARGE, payload_too_large_message(), {}
    elif is_outage(exc):
        logger.error("database unreachable: %s", exc)
        code, message, details = ErrorCode.SERVICE_UNAVAILABLE, OUTAGE_MESSAGE, {}
        headers["Retry-After"] = str(OUTAGE_RETRY_AFTER_SECONDS)
    elif isinstance(exc, DjangoValidationError):
        details = (
            {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
            if hasattr(exc, "error_dict")
            else {"non_field_errors": [str(m) for m in exc.messages]}
        )
        code, message = ErrorCode.VALIDATION_ERROR, _first_message(details)
    elif isinstance(exc, drf_exceptions.APIException):
        code = next((c for cls, c in _DRF_CODE_MAP.items() if isinstance(exc, cls)), None)
        if code is None:
            code = ErrorCode.INTERNAL_ERROR if exc.status_code >= 500 else ErrorCode.VALIDATION_ERROR
        if isinstance(exc, drf_exceptions.ValidationError):
            details = _flatten_field_errors(exc.detail)
            message = _first_message(details)
        else:
            details = {}
            message = str(exc.detail) if not isinstance(exc.detail, dict | list) else DEFAULT_MESSAGES[code]
        if isinstance(exc, drf_exceptions.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
    else:
        return None  # unhandled: Django's 500 path (ApiErrorMiddleware) renders it without a traceback
    response = Response(error_body(code, message, details), status=STATUS_BY_CODE[code])
    for name, value in headers.items():
        response[name] = value
    return response


def handler404(request, exception=None):
    return error_json_response(ErrorCode.NOT_FOUND) if request.path.startswith("/v1") else _html_404(request)


def _html_404(request):
    from django.views.defaults import page_not_found

    return page_not_found(request, Http404())


def handler500(request):
    """Django's 500 handler: JSON under ``/v1``, an HTML page without details for the pages (store, portal,
    sign-in). It runs inside the ``except`` of the failure (sys.exc_info is the error), so a database outage
    raised outside a view (session, authentication middleware) still becomes a 503 with ``Retry-After``."""
    outage = is_outage(sys.exc_info()[1])
    if request.path.startswith("/v1"):
        return outage_json_response() if outage else error_json_response(ErrorCode.INTERNAL_ERROR)
    if outage:
        response = HttpResponse(
            "<!doctype html><title>Briefly unavailable</title><h1>Briefly unavailable</h1>"
            f"<p>The store cannot reach its database. Please retry in {OUTAGE_RETRY_AFTER_SECONDS} seconds.</p>",
            status=503,
        )
        response["Retry-After"] = str(OUTAGE_RETRY_AFTER_SECONDS)
        return response
    from django.views.defaults import server_error

    return server_error(request)
