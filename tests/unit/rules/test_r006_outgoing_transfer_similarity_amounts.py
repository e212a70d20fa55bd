from __future__ import annotations

import pytest

from activities.monitoring.rules.r006_outgoing_transfer_similarity_amounts import RULE
from core.monitoring.transactions import Edge
from tests.unit.rules.factory import edge, features, run, tx


def recent(similar: int, total: int = 5) -> list[Edge]:
    """`total` transfers on consecutive days, the newest `similar` of them for 100."""
    return [edge(day, 100 if day <= similar else 500) for day in range(1, total + 1)]


@pytest.mark.parametrize(
    ("similar", "expected"),
    [
        (0, ".01"),
        (1, ".02"),  # lower limit inclusive
        (2, ".02"),
        (3, ".03"),
        (5, ".03"),
    ],
)
def test_bands_by_number_of_similar_recent_amounts(similar: int, expected: str) -> None:
    result = run(RULE, tx(amount=100), features(debtor_outgoing=recent(similar)))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == similar


@pytest.mark.parametrize(
    ("earlier_amount", "similar"),
    [(89.99, 0), (90, 1), (100, 1), (110, 1), (110.01, 0)],
)
def test_similar_means_within_the_tolerance_of_this_amount(
    earlier_amount: float, similar: int
) -> None:
    result = run(RULE, tx(amount=100), features(debtor_outgoing=[edge(1, earlier_amount)]))
    assert result.indpdnt_varbl == similar


def test_only_the_most_recent_transfers_are_compared() -> None:
    history = [*(edge(day, 500) for day in range(1, 6)), edge(6, 100), edge(7, 100)]
    result = run(RULE, tx(amount=100), features(debtor_outgoing=history))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".01", 0)


def test_failed_transfers_and_transfers_outside_the_query_range_do_not_count() -> None:
    history = [edge(1, 100, status="RJCT"), edge(30, 100), edge(30.01, 100), edge(2, 500)]
    result = run(RULE, tx(amount=100), features(debtor_outgoing=history))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".02", 1)  # only the 30-day-old one


def test_no_recent_transfer_is_insufficient_history() -> None:
    assert run(RULE, tx(amount=100), features()).sub_rule_ref == ".x01"
    too_old = features(debtor_outgoing=[edge(31, 100), edge(2, 100, status="RJCT")])
    assert run(RULE, tx(amount=100), too_old).sub_rule_ref == ".x01"


def test_unsuccessful_transaction_exits() -> None:
    result = run(RULE, tx(status="RJCT"), features(debtor_outgoing=recent(5)))
    assert result.sub_rule_ref == ".x00"
    assert result.indpdnt_varbl is None
