from __future__ import annotations

from typing import Any

import pytest

from activities.monitoring.rules.s10_offline_cap_evasion import RULE
from core.monitoring.transactions import TxType
from tests.unit.rules.factory import features, run, school, tx

CAP = 100_000  # IDR a student may spend while kiosks are offline


def purchase(offline: bool = True, **overrides: Any) -> Any:
    return tx(tx_type=TxType.KIOSK_PURCHASE, kiosk_id="k-1", offline=offline, **overrides)


def spent(amount: float, cap: float | None = CAP) -> Any:
    return features(school=school(offline_spent_across_kiosks=amount, offline_cap=cap))


@pytest.mark.parametrize(
    ("offline_spent", "expected"),
    [
        (0, ".01"),
        (79_999, ".01"),
        (80_000, ".02"),  # 0.8
        (99_999, ".02"),
        (100_000, ".03"),  # exactly the cap
        (199_999, ".03"),
        (200_000, ".04"),  # 2x
        (450_000, ".04"),
    ],
)
def test_bands_by_offline_spending_against_the_cap(offline_spent: float, expected: str) -> None:
    result = run(RULE, purchase(), spent(offline_spent))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == pytest.approx(offline_spent / CAP)


@pytest.mark.parametrize("feats", [spent(450_000), spent(450_000, cap=None), features()])
def test_online_transactions_measure_zero(feats: Any) -> None:
    result = run(RULE, purchase(offline=False), feats)
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".01", 0.0)


@pytest.mark.parametrize(("offline_spent", "expected"), [(0, ".01"), (15_000, ".04")])
def test_a_zero_cap_allows_no_offline_spending(offline_spent: float, expected: str) -> None:
    result = run(RULE, purchase(), spent(offline_spent, cap=0))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == pytest.approx(offline_spent)  # treated as a 1 IDR cap


@pytest.mark.parametrize("feats", [spent(450_000, cap=None), features()])
def test_offline_purchase_without_a_cap_is_insufficient_data(feats: Any) -> None:
    result = run(RULE, purchase(), feats)
    assert result.sub_rule_ref == ".x01"
    assert result.indpdnt_varbl is None


def test_unsuccessful_transaction_exits() -> None:
    assert run(RULE, purchase(status="RJCT"), spent(450_000)).sub_rule_ref == ".x00"
