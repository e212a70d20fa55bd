"""Every operation the load sent, by fault: whether Saku acknowledged it, and what it said.

An operation is acknowledged when its channel confirmed it: the broker acknowledged every
Kafka record it is made of, or Saku answered the HTTP request with 2xx. What Saku then did
about it is read from PostgreSQL afterwards (`saku.chaos.score`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

STREAM = "ISO 20022 on Kafka"
TOPUP_KAFKA = "top-up on Kafka"
TOPUP_HTTP = "top-up by HTTP"
KIOSK = "kiosk payment"
OFFLINE = "offline sale replayed"
KINDS = (STREAM, TOPUP_KAFKA, TOPUP_HTTP, KIOSK, OFFLINE)
# what the embedded broker holds in memory until it is consumed
KAFKA_KINDS = frozenset({STREAM, TOPUP_KAFKA})


@dataclass
class Operation:
    kind: str
    key: str  # stream: the pacs.002 message id; top-ups: the top-up id; kiosks: "kiosk:tx"
    phase: str
    acked: bool = False
    answer: str | None = None  # the decision an HTTP acknowledgement carried
    unconfirmed: int = 1  # Kafka records the broker has not acknowledged yet
    failed: bool = False  # a record was refused: never acknowledged

    def delivered(self, ok: bool) -> None:
        """A Kafka delivery report for one of the operation's records."""
        self.failed = self.failed or not ok
        self.unconfirmed -= 1
        self.acked = self.unconfirmed == 0 and not self.failed


@dataclass
class Tally:
    phase: str = ""
    operations: dict[tuple[str, str], Operation] = field(default_factory=dict)
    refusals: dict[str, list[str]] = field(default_factory=dict)  # phase -> HTTP 4xx seen
    server_errors: dict[str, Counter[int]] = field(default_factory=dict)  # phase -> 5xx seen

    def add(self, kind: str, key: str, parts: int = 1) -> Operation:
        operation = Operation(kind, key, self.phase, unconfirmed=parts)
        self.operations[(_family(kind), key)] = operation
        return operation

    def find(self, kind: str, key: str) -> Operation | None:
        return self.operations.get((_family(kind), key))

    def of_phase(self, phase: str) -> list[Operation]:
        return [op for op in self.operations.values() if op.phase == phase]

    def refused(self, what: str) -> None:
        self.refusals.setdefault(self.phase, []).append(what)

    def server_error(self, status: int) -> None:
        """An HTTP 5xx answer (the client then asks again, or the kiosk sells offline)."""
        self.server_errors.setdefault(self.phase, Counter())[status] += 1


def _family(kind: str) -> str:
    # a kiosk's sale is one operation whether it was answered online or replayed offline
    return {OFFLINE: KIOSK, TOPUP_HTTP: TOPUP_KAFKA}.get(kind, kind)
