"""Structured JSON logs with a correlation id that follows a request into workflows.

The correlation id lives in a context variable: the API sets it per request (from the
`X-Request-ID` header or a fresh one), the Temporal interceptors carry it in workflow and
activity headers, and every log line carries it. Values under keys that look like secrets
or personal data are redacted, so a careless `extra=` cannot leak them.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "saku_correlation_id", default=None
)

REDACTED = "[redacted]"
_SENSITIVE_KEY_PARTS = (
    "password",
    "secret",
    "token",
    "authorization",
    "template",
    "key",
    "pin",
    "name",
    "email",
    "phone",
)
# Attributes every LogRecord has; anything else came in through `extra=`.
_RECORD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


# The correlation id travels in Kafka records under this header (and in Temporal headers, see
# core.temporal.interceptors), so one id spans API -> Kafka -> workflow -> activity.
CORRELATION_HEADER = "saku-correlation-id"


def correlation_headers() -> list[tuple[str, bytes]]:
    """Kafka record headers carrying the current correlation id, if there is one."""
    cid = correlation_id.get()
    return [(CORRELATION_HEADER, cid.encode())] if cid else []


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def _is_sensitive(key: str) -> bool:
    lowered = key.lower()
    return any(part in lowered for part in _SENSITIVE_KEY_PARTS)


def redact(value: Any, key: str = "") -> Any:
    if key and _is_sensitive(key):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    return value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        cid = getattr(record, "correlation_id", None) or correlation_id.get()
        if cid:
            entry["correlation_id"] = cid
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and key != "correlation_id":
                entry[key] = redact(value, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO", stream: Any = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries that log every request at INFO would drown the signal.
    for noisy in ("aiokafka", "httpx", "uvicorn.access", "temporalio.activity"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
