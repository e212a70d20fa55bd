"""Pure rules of the guardian portal: the format of a wallet's virtual account number for
bank transfers, when an auto top-up is asked for and how much."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal

# A virtual account number, as the bank takes it: 16 digits, the bank's prefix for Saku
# wallets (a bank assigns one per partner), the wallet's allocation number zero-padded to
# 11 digits, and a Luhn check digit over the 15 before it ("8808" "00000000042" "9").
# Numbers are allocated once per wallet by the database, from one sequence across tenants
# (the bank knows nothing of tenants), and never change (infra/migrations/
# 0031_virtual_accounts.sql, whose `virtual_account_number` formats them as this module
# does; a test holds the two together).
VA_PREFIX = "8808"
VA_DIGITS = 16
VA_SEQUENCE_DIGITS = VA_DIGITS - len(VA_PREFIX) - 1
VA_PATTERN = r"^[0-9]{16}$"
_VA = re.compile(VA_PATTERN)


def _luhn_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # every second digit from the right, the check digit not yet there
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def virtual_account_number(sequence: int) -> str:
    """The virtual account number of the wallet allocated `sequence` (1, 2, ...)."""
    if not 1 <= sequence < 10**VA_SEQUENCE_DIGITS:
        raise ValueError(f"a virtual account's sequence is 1 to {10**VA_SEQUENCE_DIGITS - 1}")
    number = VA_PREFIX + str(sequence).zfill(VA_SEQUENCE_DIGITS)
    return number + _luhn_digit(number)


def valid_virtual_account(number: str) -> bool:
    """Whether `number` has the form of a Saku virtual account: 16 digits, the bank's
    prefix, a check digit that matches (a mistyped digit or two swapped ones do not)."""
    return (
        bool(_VA.match(number))
        and number.startswith(VA_PREFIX)
        and _luhn_digit(number[:-1]) == number[-1]
    )


def auto_topup_amount(
    balance_after: Decimal, paid: Decimal, below: Decimal, wanted: Decimal, cap: Decimal
) -> Decimal | None:
    """How much to ask the bank for when a payment of `paid` left `balance_after`: only
    when this payment took the balance below `below` (once per crossing), `wanted` but
    never past the e-money `cap`; None when nothing is asked for."""
    if not balance_after < below <= balance_after + paid:
        return None
    amount = min(wanted, cap - balance_after)
    return amount if amount > 0 else None


def auto_topup_request_id(tenant: str, cause_msg_id: str) -> str:
    """The request's id, from the payment that caused it: the same crossing asks once. The
    bank's answering top-up carries it as its topupId (so it credits once, too)."""
    return "auto-" + hashlib.sha256(f"{tenant}\x00{cause_msg_id}".encode()).hexdigest()[:32]
