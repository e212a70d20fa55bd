"""Pure rules of the guardian portal: a wallet's virtual account number for bank transfers,
when an auto top-up is asked for and how much, and the bounds on what a guardian enters."""

from __future__ import annotations

import hashlib
from decimal import Decimal

# the bank's virtual-account prefix for Saku wallets (a bank assigns one per partner)
VA_PREFIX = "8808"
VA_DIGITS = 16


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


def virtual_account(tenant: str, student_id: str) -> str:
    """The wallet's virtual account number: the prefix, 11 digits derived from the wallet
    (the same every time, for the same wallet) and a Luhn check digit, 16 digits in all."""
    body_len = VA_DIGITS - len(VA_PREFIX) - 1
    digest = hashlib.sha256(f"{tenant}\x00{student_id}".encode()).digest()
    body = str(int.from_bytes(digest[:8], "big") % 10**body_len).zfill(body_len)
    number = VA_PREFIX + body
    return number + _luhn_digit(number)


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
