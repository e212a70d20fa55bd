"""Rules 901 (debtor, outgoing) and 902 (creditor, incoming): the same count on the party's
history in the transaction's direction, with bands of their own."""

from __future__ import annotations

import dataclasses
import json

import pytest
from temporalio.converter import value_to_type

from activities.monitoring.rules.base import Rule
from activities.monitoring.rules.r901_outgoing_transactions_debtor import RULE as R901
from activities.monitoring.rules.r902_incoming_transactions_creditor import RULE as R902
from core.monitoring.results import RuleResult
from core.monitoring.transactions import Edge
from tests.unit.rules.factory import HOUR, NOW, edge, features, run, tx
from tests.unit.rules.sides import CREDITOR, DEBTOR, Side, twins

TWINS = twins(R901, R902)

BANDS_901 = [(0, ".01"), (3, ".01"), (4, ".02"), (8, ".02"), (9, ".03"), (18, ".03"), (19, ".04")]
BANDS_902 = [
    (0, ".01"),
    (8, ".01"),
    (9, ".02"),  # 10 with the new one: lower limit inclusive
    (48, ".02"),
    (49, ".03"),
    (198, ".03"),
    (199, ".04"),
]


def _within_a_day(count: int) -> list[Edge]:  # earlier transactions spread over the last 23 hours
    return [edge(at_ms=NOW - (i % 23 + 1) * HOUR) for i in range(count)]


@pytest.mark.parametrize(
    ("rule", "side", "earlier", "expected"),
    [
        *(pytest.param(R901, DEBTOR, n, ref, id=f"901-{n}-{ref}") for n, ref in BANDS_901),
        *(pytest.param(R902, CREDITOR, n, ref, id=f"902-{n}-{ref}") for n, ref in BANDS_902),
    ],
)
def test_bands_by_transactions_in_24_hours(
    rule: Rule, side: Side, earlier: int, expected: str
) -> None:
    result = run(rule, feats=side.along(_within_a_day(earlier)))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == earlier + 1  # the new transaction counts


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_failed_attempts_count_but_older_than_24_hours_do_not(rule: Rule, side: Side) -> None:
    history = [
        edge(at_ms=NOW - HOUR, status="RJCT"),
        edge(at_ms=NOW - 24 * HOUR),  # exactly at the edge of the range: counts
        edge(at_ms=NOW - 24 * HOUR - 1),
        edge(at_ms=NOW + 1),  # after the transaction being evaluated
    ]
    result = run(rule, feats=side.along(history))
    assert result.indpdnt_varbl == 3


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_the_other_direction_does_not_count(rule: Rule, side: Side) -> None:
    result = run(rule, feats=side.against(_within_a_day(20)))
    assert result.indpdnt_varbl == 1


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_unsuccessful_transaction_exits(rule: Rule, side: Side) -> None:
    result = run(rule, tx(status="RJCT"), side.along(_within_a_day(30)))
    assert result.sub_rule_ref == ".x00"


def test_a_count_is_stored_alike_whether_or_not_it_crossed_a_workflow() -> None:
    """The batch stores a rule result as the rule made it; the per-transaction workflow
    stores it after Temporal's converter, which follows the result's type (float). A count
    must read back the same either way (it once read 3 on one path and 3.0 on the other)."""
    result = run(R901, feats=features(debtor_outgoing=_within_a_day(2)))
    crossed = value_to_type(RuleResult, dataclasses.asdict(result))
    assert json.dumps(result.indpdnt_varbl) == json.dumps(crossed.indpdnt_varbl) == "3.0"
