from __future__ import annotations

import pytest

from activities.rules.r044_successful_transactions_debtor import RULE
from tests.unit.rules.factory import edge, features, run, tx


@pytest.mark.parametrize(
    ("earlier", "expected"),
    [
        (0, ".01"),  # 1: the first payment
        (1, ".02"),  # 2: lower limit inclusive
        (3, ".02"),  # 4
        (4, ".03"),  # 5
        (20, ".03"),
    ],
)
def test_bands_by_successful_transactions_including_the_new_one(
    earlier: int, expected: str
) -> None:
    history = [edge(days_ago=i + 1) for i in range(earlier)]
    result = run(RULE, feats=features(debtor_outgoing=history))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == earlier + 1


def test_failed_old_and_future_transactions_do_not_count() -> None:
    history = [
        edge(1),
        edge(2, status="RJCT"),
        edge(91),  # outside the 90-day query range
        edge(-1),  # after the transaction being evaluated
    ]
    result = run(RULE, feats=features(debtor_outgoing=history))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".02", 2)


def test_incoming_transactions_do_not_count() -> None:
    result = run(RULE, feats=features(debtor_incoming=[edge(1), edge(2)]))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".01", 1)


def test_unsuccessful_transaction_exits() -> None:
    result = run(RULE, tx(status="RJCT"), features(debtor_outgoing=[edge(1)]))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".x00", None)
