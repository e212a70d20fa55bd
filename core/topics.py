"""Kafka topics Saku reads and writes, with their partition counts, defined once.

Names are prefixed with SAKU_TOPIC_PREFIX (default "saku"), e.g. "saku.transactions".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    purpose: str


TRANSACTIONS = Topic("transactions", 6, "ISO 20022 JSON from core banking (pacs/pain)")
TOPUPS = Topic("topups", 3, "top-up events from the bank")
TOPUP_REQUESTS = Topic(
    "topup-requests", 3, "auto top-up requests to the bank (answered by a top-up event)"
)
ALERTS = Topic("alerts", 3, "alerts raised by the monitoring engine")
DEAD_LETTER = Topic("deadletter", 1, "messages that could not be accepted, with the reason")
SELFCHECK = Topic("selfcheck", 1, "round trips proving the stack and processes work")
PAYOUTS = Topic("payouts", 3, "payout requests to the bank: leavers' balances to a guardian")
PAYOUT_RESULTS = Topic(
    "payout-results", 3, "the bank's answers to payout requests: paid or rejected"
)

ALL: tuple[Topic, ...] = (
    TRANSACTIONS,
    TOPUPS,
    TOPUP_REQUESTS,
    ALERTS,
    DEAD_LETTER,
    SELFCHECK,
    PAYOUTS,
    PAYOUT_RESULTS,
)
