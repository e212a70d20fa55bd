"""Payments and top-ups as the wallet workflows see them.

Plain frozen dataclasses: they cross the workflow boundary. Amounts travel as decimal
strings (the JSON converter has no Decimal) and become `Decimal` in activities.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

APPROVED = "approved"
DECLINED = "declined"
CREDITED = "credited"


@dataclass(frozen=True)
class Decline:
    """Why money did not move: a stable code for systems, a reason a child can read."""

    code: str
    reason: str


@dataclass(frozen=True)
class Redo:
    """A movement decided before a point-in-time restore that undid its record (Temporal
    kept the finished run, the restored database has no trace of it): carried out again
    as it was decided. An approved sale has happened (the child has the food) and a
    credited top-up was confirmed to the bank: they are posted, never declined now; a
    declined one stays declined."""

    status: str  # approved | credited | declined: the receipt given then
    decline: Decline | None = None  # the reason given then, when declined


@dataclass(frozen=True)
class PaymentRequest:
    tenant_id: str
    kiosk_id: str
    kiosk_tx_id: str  # the kiosk's own id: the payment happens once per (kiosk, id)
    student_id: str
    amount: str
    sold_at_ms: int
    category_id: str | None = None
    auth_method: str = "fingerprint"  # fingerprint | pin | qr | override
    match_score: int | None = None
    operator_id: str | None = None  # the staff member who approved an override
    offline: bool = False  # sold offline, replayed at sync
    redo: Redo | None = None  # decided before a restore lost its record

    @property
    def msg_id(self) -> str:
        return payment_msg_id(self.kiosk_id, self.kiosk_tx_id)


@dataclass(frozen=True)
class TopUpRequest:
    tenant_id: str
    topup_id: str  # the bank's reference: the top-up happens once per id
    student_id: str
    amount: str
    payer_account: str
    payer_name: str
    channel: str  # api | kafka
    created_at_ms: int
    redo: Redo | None = None  # decided before a restore lost its record

    @property
    def msg_id(self) -> str:
        return topup_msg_id(self.topup_id)


def payment_msg_id(kiosk_id: str, kiosk_tx_id: str) -> str:
    return f"kiosk:{kiosk_id}:{kiosk_tx_id}"


def topup_msg_id(topup_id: str) -> str:
    return f"topup:{topup_id}"


@dataclass(frozen=True)
class Screening:
    """The first step's answer: declined before monitoring, or the monitoring engine's
    decision (stored with its evaluation; the workflow carries only this summary)."""

    decline: Decline | None = None
    evaluation_id: str | None = None
    monitoring_status: str | None = None  # ALRT | NALT
    interdicted: bool = False
    score: float | None = None  # the highest typology score, when monitored


@dataclass(frozen=True)
class Settlement:
    """What the workflow decided, for the last step to carry out."""

    decline: Decline | None
    evaluation_id: str | None = None
    monitoring_status: str | None = None


@dataclass(frozen=True)
class Receipt:
    """What the kiosk (or the bank) is told, and the guardian sees."""

    reference: str  # kiosk tx id or top-up id
    status: str  # approved | declined (payments), credited | declined (top-ups)
    amount: str
    student_id: str
    workflow_id: str
    reason_code: str | None = None
    reason: str | None = None
    balance_after: str | None = None  # the wallet's balance after this movement
    posting_id: str | None = None
    evaluation_id: str | None = None
    monitoring_status: str | None = None  # ALRT | NALT


def money(value: object) -> str:
    """The canonical decimal string of an amount, as the ledger stores it (4 places)."""
    return f"{Decimal(str(value)).quantize(Decimal('0.0001')):f}"


@dataclass(frozen=True)
class PayoutRef:
    """A payout request to send to the bank (a leaver's balance to a guardian): its
    reference only; the amount and the guardian stay in the database."""

    tenant_id: str
    payout_id: str


def payout_workflow_id(tenant: str, payout_id: str) -> str:
    return f"payout-{tenant}-{payout_id}"
