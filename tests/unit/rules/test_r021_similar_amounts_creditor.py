from __future__ import annotations

import pytest

from activities.monitoring.rules.r021_similar_amounts_creditor import RULE
from core.monitoring.transactions import Edge
from tests.unit.rules.factory import edge, features, run, tx


def similar(count: int) -> list[Edge]:
    """`count` earlier payments to the creditor of exactly 100, plus unrelated ones."""
    return [edge(1, 100, counterparty=f"acc-{i}") for i in range(count)] + [edge(1, 500)]


@pytest.mark.parametrize(
    ("payments", "expected"),
    [
        (1, ".01"),  # this payment alone
        (2, ".01"),
        (3, ".02"),  # lower limit inclusive
        (4, ".02"),
        (5, ".03"),
        (9, ".03"),
        (10, ".04"),
        (30, ".04"),
    ],
)
def test_bands_by_number_of_similar_payments(payments: int, expected: str) -> None:
    result = run(RULE, tx(amount=100), features(creditor_incoming=similar(payments - 1)))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == payments


@pytest.mark.parametrize(
    ("earlier_amount", "is_similar"),
    [(105, True), (105.01, False), (95, True), (94.99, False), (100, True)],
)
def test_similar_means_within_five_percent(earlier_amount: float, is_similar: bool) -> None:
    result = run(RULE, tx(amount=100), features(creditor_incoming=[edge(1, earlier_amount)]))
    assert result.indpdnt_varbl == (2 if is_similar else 1)


def test_zero_amounts_are_similar_only_to_zero() -> None:
    history = [edge(1, 0), edge(2, 0), edge(3, 0.01)]
    assert run(RULE, tx(amount=0), features(creditor_incoming=history)).indpdnt_varbl == 3


def test_history_outside_the_query_range_and_failed_transfers_do_not_count() -> None:
    history = [edge(7, 100), edge(7.01, 100), edge(1, 100, status="RJCT"), edge(-1, 100)]
    result = run(RULE, tx(amount=100), features(creditor_incoming=history))
    assert result.indpdnt_varbl == 2  # this payment and the one exactly 7 days old


def test_unsuccessful_transaction_exits() -> None:
    result = run(RULE, tx(status="RJCT"), features(creditor_incoming=similar(20)))
    assert result.sub_rule_ref == ".x00"
