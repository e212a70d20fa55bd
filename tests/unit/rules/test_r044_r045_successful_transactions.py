"""Rules 044 (debtor, outgoing) and 045 (creditor, incoming): the same count on the party's
history in the transaction's direction."""

from __future__ import annotations

import pytest

from activities.monitoring.rules.base import Rule
from activities.monitoring.rules.r044_successful_transactions_debtor import RULE as R044
from activities.monitoring.rules.r045_successful_transactions_creditor import RULE as R045
from tests.unit.rules.factory import edge, run, tx
from tests.unit.rules.sides import Side, twins

TWINS = twins(R044, R045)


@pytest.mark.parametrize(("rule", "side"), TWINS)
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
    rule: Rule, side: Side, earlier: int, expected: str
) -> None:
    history = [edge(days_ago=i + 1) for i in range(earlier)]
    result = run(rule, feats=side.along(history))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == earlier + 1


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_failed_old_and_future_transactions_do_not_count(rule: Rule, side: Side) -> None:
    history = [
        edge(1),
        edge(2, status="RJCT"),
        edge(91),  # outside the 90-day query range
        edge(-1),  # after the transaction being evaluated
    ]
    result = run(rule, feats=side.along(history))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".02", 2)


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_the_other_direction_does_not_count(rule: Rule, side: Side) -> None:
    result = run(rule, feats=side.against([edge(1), edge(2)]))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".01", 1)


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_unsuccessful_transaction_exits(rule: Rule, side: Side) -> None:
    result = run(rule, tx(status="RJCT"), side.along([edge(1)]))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".x00", None)
