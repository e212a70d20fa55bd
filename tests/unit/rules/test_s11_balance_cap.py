from __future__ import annotations

from typing import Any

import pytest

from activities.monitoring.rules.s11_balance_cap import RULE
from core.monitoring.transactions import TxType
from tests.unit.rules.factory import features, run, school, tx

CAP = 2_000_000  # IDR, Bank Indonesia's cap for unregistered e-money


def wallet(balance: float, cap: float | None = CAP) -> Any:
    return features(school=school(wallet_balance=balance, balance_cap=cap))


def top_up(amount: float, **overrides: Any) -> Any:
    return tx(tx_type=TxType.TOP_UP, amount=amount, **overrides)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [  # on a wallet holding IDR 1,000,000
        (599_999, ".01"),
        (600_000, ".02"),  # 1,600,000 = 0.8 of the cap
        (999_999, ".02"),
        (1_000_000, ".03"),  # exactly the cap
        (2_000_000, ".03"),
    ],
)
def test_bands_by_balance_after_top_up(amount: float, expected: str) -> None:
    result = run(RULE, top_up(amount), wallet(1_000_000))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == pytest.approx((1_000_000 + amount) / CAP)


@pytest.mark.parametrize(("balance", "expected"), [(1_900_000, ".02"), (2_100_000, ".03")])
def test_a_purchase_does_not_add_its_amount(balance: float, expected: str) -> None:
    result = run(RULE, tx(tx_type=TxType.KIOSK_PURCHASE, amount=500_000), wallet(balance))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == pytest.approx(balance / CAP)


@pytest.mark.parametrize("feats", [wallet(1_000_000, cap=None), features()])
def test_no_cap_is_insufficient_data(feats: Any) -> None:
    assert run(RULE, top_up(50_000), feats).sub_rule_ref == ".x01"


def test_unsuccessful_transaction_exits() -> None:
    assert run(RULE, top_up(5_000_000, status="RJCT"), wallet(0)).sub_rule_ref == ".x00"
