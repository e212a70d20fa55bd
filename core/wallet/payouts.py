"""A payout's life after the request: what the bank may answer, and which answer a payout
in a given state takes.

A payout is `requested` (posted into payouts pending), `sent` (on the bank's payouts
topic), then `paid` or `rejected` by the bank's answer. A rejected payout is sent again as
a new payout that replaces it (the bank's idempotency key is the payout id, so the same id
would be answered the same way again). The same answer twice changes nothing; any other
answer for a payout the bank has answered already is refused with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

Outcome = Literal["paid", "rejected"]
OPEN = ("requested", "sent")  # still waiting for the bank's answer


class AnswerRefused(ValueError):
    """An answer that cannot be taken for this payout; the message says why."""


@dataclass(frozen=True)
class PayoutAnswer:
    tenant_id: str
    payout_id: str
    outcome: Outcome
    bank_reference: str
    reason: str | None  # why the bank rejected it (a rejection only)
    amount: Decimal | None  # what the bank paid, when it says
    answered_at: datetime | None  # when the bank answered, when it says


@dataclass(frozen=True)
class PayoutState:
    id: str
    status: str  # requested | sent | paid | rejected
    amount: Decimal
    bank_reference: str | None
    replaced_by: str | None


def takes(state: PayoutState, answer: PayoutAnswer) -> bool:
    """True: the payout takes this answer; False: it has taken the same answer already
    (nothing to do). Raises AnswerRefused for an answer it cannot take."""
    if answer.amount is not None and answer.amount != state.amount:
        raise AnswerRefused(
            f"payout {state.id!r} is for {state.amount:f}, but the answer says {answer.amount:f}"
        )
    if state.status in OPEN:
        return True
    if state.status == answer.outcome and state.bank_reference == answer.bank_reference:
        return False
    already = f"payout {state.id!r} was {state.status} already (bank reference "
    already += f"{state.bank_reference!r})"
    if state.replaced_by is not None:
        already += f" and sent again as {state.replaced_by!r}"
    raise AnswerRefused(f"{already}: a {answer.outcome} answer for it cannot be taken")
