"""A money movement as the monitoring engine sees it, and the history features rules read.

Every intake (ISO 20022 messages from the bank, kiosk purchases, top-ups) is normalised into
a `Transaction`; the feature loader gathers `Features` (the accounts' recent history) for it.
Both are plain immutable values (frozen dataclasses, and named tuples for history edges):
transactions cross the workflow boundary and rules are pure functions of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

# pacs.002 statuses that mean the payment went through (ISO 20022 ExternalPaymentTransactionStatus)
SUCCESS_STATUSES = frozenset({"ACCC", "ACSC", "ACSP", "ACWC"})
MS_PER_DAY = 86_400_000


class TxType:
    """The `TxTp` values Saku accepts."""

    PACS_008 = "pacs.008.001.10"  # customer credit transfer
    PACS_002 = "pacs.002.001.12"  # payment status report: settles, and triggers evaluation
    PAIN_001 = "pain.001.001.11"  # customer credit transfer initiation (quoting)
    PAIN_013 = "pain.013.001.09"  # creditor payment activation request (request to pay)
    KIOSK_PURCHASE = "saku.purchase"  # a student's purchase at a canteen kiosk
    TOP_UP = "saku.topup"  # a guardian's top-up of a student wallet

    ISO20022 = frozenset({PACS_008, PACS_002, PAIN_001, PAIN_013})
    ALL = ISO20022 | {KIOSK_PURCHASE, TOP_UP}
    # Like Tazama's default, the status report that settles a payment triggers its
    # evaluation; the other ISO messages build history. Saku's own kiosk purchases and
    # top-ups trigger too.
    TRIGGERS = frozenset({PACS_002, KIOSK_PURCHASE, TOP_UP})


@dataclass(frozen=True)
class Transaction:
    tenant_id: str
    msg_id: str
    tx_type: str
    end_to_end_id: str
    created_at_ms: int
    amount: float
    currency: str
    debtor_account: str
    creditor_account: str
    debtor_entity: str
    creditor_entity: str
    # pacs.002's status; None for messages that carry none
    status: str | None = None
    description: str | None = None
    debtor_lat: float | None = None
    debtor_lon: float | None = None
    debtor_birth_date: str | None = None  # ISO date, when the message carries it
    # the school setting (kiosk purchases, top-ups); None for bank messages
    school_id: str | None = None
    kiosk_id: str | None = None
    category: str | None = None
    auth_method: str | None = None  # fingerprint | pin | qr | override
    match_score: int | None = None  # the sensor's score for a fingerprint match
    operator_id: str | None = None  # staff member who acted (override, void, refund)
    offline: bool = False  # sold while the kiosk was offline, replayed at sync

    @property
    def unsuccessful(self) -> bool:
        return self.status is not None and self.status not in SUCCESS_STATUSES


class Edge(NamedTuple):
    """A past transaction from one account's point of view.

    A named tuple rather than a frozen dataclass: the feature loader builds thousands a
    second straight from database rows, and a frozen dataclass costs several times more to
    construct."""

    at_ms: int
    amount: float
    currency: str
    counterparty_account: str
    counterparty_entity: str
    tx_type: str
    status: str | None = None
    description: str | None = None
    lat: float | None = None
    lon: float | None = None
    channel: str | None = None  # kiosk id for kiosk purchases, else None
    category: str | None = None
    auth_method: str | None = None

    @property
    def successful(self) -> bool:
        return self.status is None or self.status in SUCCESS_STATUSES


@dataclass(frozen=True)
class AccountHistory:
    """An account's recent history, newest first, within the engine's history window."""

    account_id: str
    first_seen_ms: int | None = None
    outgoing: tuple[Edge, ...] = ()
    incoming: tuple[Edge, ...] = ()


@dataclass(frozen=True)
class EntityProfile:
    entity_id: str
    account_count: int = 0
    birth_date: str | None = None  # ISO date, for age classification


@dataclass(frozen=True)
class SchoolContext:
    """What the school rules need beyond history: limits, calendars, the kiosk, the student."""

    student_id: str
    student_school_id: str
    kiosk_school_id: str | None = None
    daily_limit: float | None = None
    weekly_limit: float | None = None
    spent_today: float = 0.0
    spent_this_week: float = 0.0
    canteen_opens_minute: int | None = None  # minutes after local midnight
    canteen_closes_minute: int | None = None
    local_minute_of_day: int | None = None  # the transaction's local time
    absent_today: bool = False
    recent_fingerprint_failures: int = 0  # failed matches just before this transaction
    operator_actions_today: int = 0  # overrides/voids/refunds by tx.operator_id today
    distinct_payers_30d: int = 0  # distinct accounts that funded this student in 30 days
    topup_refund_cycles_30d: int = 0
    offline_spent_across_kiosks: float = 0.0  # offline sales in the same offline period
    offline_cap: float | None = None
    wallet_balance: float = 0.0
    balance_cap: float | None = None


@dataclass(frozen=True)
class Features:
    debtor: AccountHistory
    creditor: AccountHistory
    debtor_entity: EntityProfile
    creditor_entity: EntityProfile
    school: SchoolContext | None = None
