"""The self-check round trip: API -> Kafka -> consumer -> workflow -> activity -> PG + Valkey."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SelfCheckRequest:
    check_id: str
    source: str


@dataclass(frozen=True)
class SelfCheckResult:
    check_id: str
    workflow_id: str
    postgres_row: bool
    valkey_key: bool


def selfcheck_workflow_id(check_id: str) -> str:
    return f"selfcheck-{check_id}"


def selfcheck_valkey_key(check_id: str) -> str:
    return f"saku:selfcheck:{check_id}"
