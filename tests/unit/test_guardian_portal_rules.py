"""The guardian portal's pure rules: virtual account numbers, when an auto top-up is asked
for and how much."""

from __future__ import annotations

from decimal import Decimal

from core.wallet.portal import (
    _luhn_digit,
    auto_topup_amount,
    auto_topup_request_id,
    virtual_account,
)

D = Decimal


def test_a_wallet_has_one_virtual_account_number_of_16_digits_with_a_check_digit() -> None:
    number = virtual_account("sch-1", "budi")
    assert number == virtual_account("sch-1", "budi")
    assert len(number) == 16 and number.isdigit() and number.startswith("8808")
    assert _luhn_digit(number[:-1]) == number[-1]
    assert number != virtual_account("sch-1", "sari")
    assert number != virtual_account("sch-2", "budi")


def test_an_auto_top_up_is_asked_for_once_when_a_payment_crosses_the_threshold() -> None:
    # 12,000 paid 5,000: 7,000 left, below 10,000: ask for 50,000
    assert auto_topup_amount(D(7000), D(5000), D(10000), D(50000), D(2_000_000)) == D(50000)
    # already below before this payment: the crossing asked already
    assert auto_topup_amount(D(3000), D(4000), D(10000), D(50000), D(2_000_000)) is None
    # still above
    assert auto_topup_amount(D(10000), D(2000), D(10000), D(50000), D(2_000_000)) is None


def test_an_auto_top_up_never_asks_past_the_e_money_cap() -> None:
    assert auto_topup_amount(D(7000), D(5000), D(10000), D(50000), D(20000)) == D(13000)
    assert auto_topup_amount(D(7000), D(5000), D(10000), D(50000), D(7000)) is None


def test_a_request_id_follows_from_the_payment_that_caused_it() -> None:
    first = auto_topup_request_id("sch-1", "kiosk:k1:tx1")
    assert first == auto_topup_request_id("sch-1", "kiosk:k1:tx1")
    assert first != auto_topup_request_id("sch-1", "kiosk:k1:tx2")
    assert len(first) <= 64 and first.startswith("auto-")
