from __future__ import annotations

import pytest

from activities.rules.r020_large_amount_vs_history_creditor import RULE
from tests.unit.rules.factory import edge, features, run, tx, with_parameters

# mean 150, population standard deviation 50
HISTORY = [edge(d, a) for d, a in [(1, 100), (2, 200), (3, 100), (4, 200), (5, 100), (6, 200)]]


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (0, ".01"),  # below the mean: z = -3
        (150, ".01"),
        (199.99, ".01"),
        (200, ".02"),  # z = 1, lower limit inclusive
        (249.99, ".02"),
        (250, ".03"),  # z = 2
        (299.99, ".03"),
        (300, ".04"),  # z = 3
        (10_000, ".04"),
    ],
)
def test_bands_by_z_score_against_incoming_history(amount: float, expected: str) -> None:
    result = run(RULE, tx(amount=amount), features(creditor_incoming=HISTORY))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == pytest.approx((amount - 150) / 50)


@pytest.mark.parametrize("count", [0, 4])
def test_too_little_history_exits(count: int) -> None:
    result = run(RULE, tx(amount=5000), features(creditor_incoming=HISTORY[:count]))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".x01", None)


@pytest.mark.parametrize(
    ("amount", "expected", "value"),
    [(100.01, ".x03", None), (99.99, ".x04", None), (100, ".01", 0)],
)
def test_history_without_variance(amount: float, expected: str, value: float | None) -> None:
    same = [edge(day, 100) for day in range(1, 6)]
    result = run(RULE, tx(amount=amount), features(creditor_incoming=same))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (expected, value)


def test_history_outside_the_query_range_and_failed_transfers_do_not_count() -> None:
    noise = [edge(91, 10_000), edge(1, 10_000, status="RJCT"), edge(-1, 10_000)]
    result = run(RULE, tx(amount=300), features(creditor_incoming=HISTORY + noise))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".04", 3)


def test_the_minimum_history_is_configurable() -> None:
    config = with_parameters(RULE, minimumNumberOfTransactions=2)
    result = run(RULE, tx(amount=200), features(creditor_incoming=HISTORY[:2]), config)
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".02", 1)  # mean 150, stdev 50


def test_debtor_history_is_not_read() -> None:
    result = run(RULE, tx(amount=300), features(debtor_incoming=HISTORY, debtor_outgoing=HISTORY))
    assert result.sub_rule_ref == ".x01"


def test_unsuccessful_transaction_exits() -> None:
    result = run(RULE, tx(status="RJCT"), features(creditor_incoming=HISTORY))
    assert result.sub_rule_ref == ".x00"
