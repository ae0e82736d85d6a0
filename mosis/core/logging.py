"""Structured logs: each record carries the request id; production writes one JSON object per line."""

import json
import logging
from datetime import UTC, datetime

from .request_id import current_request_id


class RequestIdFilter(logging.Filter):
    """For handlers: makes sure a record has ``request_id`` (the record factory below usually set it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


def install_request_id_record_factory() -> None:
    """Stamp every record with the request id *when it is created*, so any handler (a test's capture,
    Sentry, a file) sees the id of the request that logged it, even if it formats the record later.
    Idempotent: installing twice does not wrap twice."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_mosis_request_id", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        record.request_id = current_request_id()
        return record

    factory._mosis_request_id = True
    logging.setLogRecordFactory(factory)


class JsonFormatter(logging.Formatter):
    _skip = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "request_id"}

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", current_request_id()),
        }
        for key, value in record.__dict__.items():
            if key not in self._skip and not key.startswith("_"):
                payload[key] = value if isinstance(value, str | int | float | bool | None) else repr(value)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)
