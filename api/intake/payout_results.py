"""The bank's answers to payout requests, on the payout-results topic.

A payout request (the payouts topic) is answered by the bank with one record here: the
payout was `paid` (with the bank's reference) or `rejected` (with its reason). The answer
is taken in one database transaction (`Payouts.answer`: ledger, status, audit, guardians
told) with no workflow in between: the transaction is the durable step, and it is
idempotent, so a record read again changes nothing. An answer that cannot be taken
(malformed, an unknown tenant or payout, a payout in the wrong state) is dead-lettered with
the reason.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

import psycopg
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from activities.monitoring import offsets
from activities.monitoring.offsets import StreamPosition
from activities.wallet.ledger import LedgerError
from activities.wallet.payouts import Payouts
from api.intake.consumer import Handler, Record, Rejected, decode_json
from api.intake.transactions import KnownTenants
from core.wallet.payouts import AnswerRefused, PayoutAnswer

ID = r"^[A-Za-z0-9_.:-]{1,64}$"


class PayoutResultIn(BaseModel):
    """The bank's answer to one payout request (camelCase, as the bank sends it)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    payout_id: str = Field(alias="payoutId", pattern=ID, description="The request's payoutId")
    tenant_id: str = Field(alias="tenantId", pattern=ID)
    outcome: Literal["paid", "rejected"]
    bank_reference: str = Field(alias="bankReference", pattern=ID)
    reason: str | None = Field(
        default=None, min_length=1, max_length=300, description="Why it was rejected"
    )
    amount: Decimal | None = Field(default=None, gt=0, le=100_000_000, decimal_places=4)
    currency: str = Field(default="IDR", pattern="^IDR$")
    answered_at: datetime | None = Field(default=None, alias="answeredAt")

    @model_validator(mode="after")
    def _consistent(self) -> PayoutResultIn:
        if self.outcome == "rejected" and not (self.reason or "").strip():
            raise ValueError("a rejected payout needs the bank's reason")
        if self.outcome == "paid" and self.reason is not None:
            raise ValueError("a paid payout has no reason (reason is for a rejection)")
        if self.answered_at is not None and self.answered_at.tzinfo is None:
            raise ValueError("answeredAt needs a timezone (e.g. 2026-12-07T10:00:00+07:00)")
        return self

    def answer(self) -> PayoutAnswer:
        return PayoutAnswer(
            tenant_id=self.tenant_id,
            payout_id=self.payout_id,
            outcome=self.outcome,
            bank_reference=self.bank_reference,
            reason=self.reason.strip() if self.reason else None,
            amount=self.amount,
            answered_at=self.answered_at,
        )


def parse(record: Record) -> PayoutAnswer:
    """The record as an answer, or Rejected with the reason."""
    try:
        return PayoutResultIn.model_validate(decode_json(record)).answer()
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise Rejected(f"invalid payout result: {where + ': ' if where else ''}{message}") from err


def payout_results_handler(payouts: Payouts, tenants: KnownTenants) -> Handler:
    """Take each answer in its own transaction; dead-letter the rest with the reason. The
    offsets are recorded in PostgreSQL after the answers (an answer taken twice is taken
    once)."""

    async def handle(records: list[Record], position: StreamPosition) -> list[tuple[Record, str]]:
        rejected: list[tuple[Record, str]] = []
        for record in records:
            try:
                answer = parse(record)
                if not await tenants.exists(answer.tenant_id):
                    raise Rejected(f"unknown tenant {answer.tenant_id!r}")
                await payouts.answer(answer)
            except (Rejected, AnswerRefused, LedgerError) as err:
                rejected.append((record, str(err)))
            except psycopg.DataError as err:
                rejected.append((record, f"the database refused a value: {err}".strip()))
        await offsets.record_alone(payouts.pool, position)
        return rejected

    return handle
