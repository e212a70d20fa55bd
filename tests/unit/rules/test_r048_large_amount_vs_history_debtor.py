from __future__ import annotations

import pytest

from activities.rules.r048_large_amount_vs_history_debtor import RULE
from tests.unit.rules.factory import edge, features, run, tx, with_parameters

# mean 150, population standard deviation 50
HISTORY = [edge(i + 1, amount) for i, amount in enumerate([100, 200, 100, 200, 100, 200])]


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (50, ".01"),  # -2: smaller than usual is not large
        (249.99, ".01"),
        (250, ".02"),  # z = 2, lower limit inclusive
        (299.99, ".02"),
        (300, ".03"),  # z = 3
        (399.99, ".03"),
        (400, ".04"),  # z = 5
        (5000, ".04"),
    ],
)
def test_bands_by_z_score(amount: float, expected: str) -> None:
    result = run(RULE, tx(amount=amount), features(debtor_outgoing=HISTORY))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == pytest.approx((amount - 150) / 50)


def test_too_little_history_exits() -> None:
    result = run(RULE, tx(amount=5000), features(debtor_outgoing=HISTORY[:4]))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".x01", None)


def test_failed_and_out_of_range_transfers_are_not_history() -> None:
    history = [*HISTORY[:4], edge(2, 100_000, status="RJCT"), edge(91, 100_000)]
    assert run(RULE, tx(amount=400), features(debtor_outgoing=history)).sub_rule_ref == ".x01"
    config = with_parameters(RULE, minimumNumberOfTransactions=4)
    result = run(RULE, tx(amount=400), features(debtor_outgoing=history), config)
    assert result.indpdnt_varbl == pytest.approx(5.0)  # mean 150, sd 50 from the 4 valid ones


@pytest.mark.parametrize(
    ("amount", "expected", "value"),
    [(120, ".x03", None), (80, ".x04", None), (100, ".01", 0.0)],
)
def test_history_without_variance(amount: float, expected: str, value: float | None) -> None:
    history = [edge(i + 1, 100) for i in range(5)]
    result = run(RULE, tx(amount=amount), features(debtor_outgoing=history))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (expected, value)


@pytest.mark.parametrize(
    ("amount", "expected"), [(1234.57, ".x03"), (1234.55, ".x04"), (1234.56, ".01")]
)
def test_float_noise_is_not_variance(amount: float, expected: str) -> None:
    history = [edge(i + 1, 1234.56) for i in range(7)]  # population stdev ~2e-13, not 0
    result = run(RULE, tx(amount=amount), features(debtor_outgoing=history))
    assert result.sub_rule_ref == expected


def test_unsuccessful_transaction_exits() -> None:
    result = run(RULE, tx(status="RJCT"), features(debtor_outgoing=HISTORY))
    assert result.sub_rule_ref == ".x00"
