"""The request id of the current request, for logs and error bodies (contextvar, so threads and async agree)."""

import re
import uuid
from contextvars import ContextVar

_request_id: ContextVar[str] = ContextVar("request_id", default="-")
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def current_request_id() -> str:
    return _request_id.get()


def set_request_id(value: str):
    return _request_id.set(value)


def reset_request_id(token) -> None:
    _request_id.reset(token)


def request_id_from_header(value: str | None) -> str:
    """Take the client's id when it is sane (bounded, no control characters), otherwise make one."""
    if value and SANE_REQUEST_ID.match(value):
        return value
    return uuid.uuid4().hex
