"""The guardian portal's pure rules: the virtual account numbers' format, when an auto top-up
is asked for and how much."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.wallet.portal import (
    _luhn_digit,
    auto_topup_amount,
    auto_topup_request_id,
    valid_virtual_account,
    virtual_account_number,
)

D = Decimal


def test_a_virtual_account_number_is_prefix_zero_padded_allocation_and_check_digit() -> None:
    number = virtual_account_number(42)
    assert number[:15] == "8808" + "00000000042"
    assert len(number) == 16 and number.isdigit()
    assert _luhn_digit(number[:-1]) == number[-1]
    assert valid_virtual_account(number)
    assert virtual_account_number(43) != number
    assert virtual_account_number(10**11 - 1)[:15] == "8808" + "9" * 11
    for out_of_range in (0, -1, 10**11):
        with pytest.raises(ValueError):
            virtual_account_number(out_of_range)


def test_a_mistyped_virtual_account_number_is_not_valid() -> None:
    number = virtual_account_number(1_234_567)
    one_digit_off = number[:10] + str((int(number[10]) + 1) % 10) + number[11:]
    swapped = number[:12] + number[13] + number[12] + number[14:]
    assert number[12] != number[13]  # the swap changes the number
    for wrong in (
        one_digit_off,
        swapped,
        number[:-1],
        number + "0",
        "9999" + number[4:],  # another bank's prefix
        number[:-1] + "x",
        "",
    ):
        assert not valid_virtual_account(wrong), wrong


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
