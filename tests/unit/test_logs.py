"""Structured logs: JSON lines, correlation ids, nothing secret or personal."""

from __future__ import annotations

import io
import json
import logging

from core.logs import REDACTED, configure_logging, correlation_id, redact


def capture(*args: object, **extra: object) -> dict[str, object]:
    stream = io.StringIO()
    configure_logging("INFO", stream)
    logging.getLogger("test").info(*args, extra=extra)  # type: ignore[arg-type]
    return json.loads(stream.getvalue().splitlines()[-1])  # type: ignore[no-any-return]


def test_each_line_is_json_with_the_correlation_id() -> None:
    token = correlation_id.set("cid-123")
    try:
        entry = capture("hello %s", "world", tenant="t1")
    finally:
        correlation_id.reset(token)
    assert entry["msg"] == "hello world"
    assert entry["correlation_id"] == "cid-123"
    assert entry["tenant"] == "t1"
    assert entry["level"] == "info"


def test_secret_and_personal_fields_are_redacted() -> None:
    entry = capture(
        "login",
        password="hunter2hunter2",
        jwt_token="abc",
        student_name="Budi",
        payload={"template": b"\x03\x01secret", "amount": 5000},
    )
    text = json.dumps(entry)
    for leaked in ("hunter2hunter2", "abc", "Budi", "secret"):
        assert leaked not in text
    assert entry["password"] == REDACTED
    assert entry["payload"] == {"template": REDACTED, "amount": 5000}


def test_bytes_are_never_written_out() -> None:
    assert redact({"blob": b"\x00\x01\x02"}) == {"blob": "<3 bytes>"}
