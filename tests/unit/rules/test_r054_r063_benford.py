"""Rules 054 (debtor, outgoing amounts) and 063 (creditor, incoming amounts): Benford's law on
the amounts in the transaction's direction."""

from __future__ import annotations

import dataclasses
import math

import pytest

from activities.monitoring.rules.base import Rule
from activities.monitoring.rules.r054_benford_debtor import RULE as R054
from activities.monitoring.rules.r063_benford_creditor import RULE as R063
from core.monitoring.transactions import Edge
from tests.unit.rules.factory import edge, run, tx, with_parameters
from tests.unit.rules.sides import Side, twins

TWINS = twins(R054, R063)

# leading-digit counts close to Benford (30.1%, 17.6%, 12.5%, ...) and flat (uniform)
BENFORD_LIKE = [30, 18, 12, 10, 8, 7, 6, 5, 4]
UNIFORM = [11] * 9


def _history(counts: list[int]) -> list[Edge]:
    """Transfers with the given count of each leading digit 1..9 (amounts d * 1000)."""
    digits = [d for d, n in zip(range(1, 10), counts, strict=True) for _ in range(n)]
    return [edge(1 + i % 300, d * 1000 + 37) for i, d in enumerate(digits)]


def _chi_square(counts: list[int]) -> float:
    n = sum(counts)
    expected = [n * math.log10(1 + 1 / d) for d in range(1, 10)]
    return sum((o - e) ** 2 / e for o, e in zip(counts, expected, strict=True))


@pytest.mark.parametrize(("rule", "side"), TWINS)
@pytest.mark.parametrize(
    ("counts", "expected"),
    [(BENFORD_LIKE, ".01"), (UNIFORM, ".04")],
)
def test_measures_chi_square_against_benford(
    rule: Rule, side: Side, counts: list[int], expected: str
) -> None:
    # the new amount (100 -> digit 1) joins the sample
    history = _history([counts[0] - 1, *counts[1:]])
    result = run(rule, tx(amount=100), side.along(history))
    assert result.indpdnt_varbl == pytest.approx(_chi_square(counts))
    assert result.sub_rule_ref == expected


@pytest.mark.parametrize(("rule", "side"), TWINS)
@pytest.mark.parametrize(
    ("chi_square", "expected"),
    [
        (0, ".01"),
        (15.509, ".01"),
        (15.51, ".02"),  # p = 0.05, lower limit inclusive
        (20.089, ".02"),
        (20.09, ".03"),  # p = 0.01
        (26.119, ".03"),
        (26.12, ".04"),  # p = 0.001
        (500, ".04"),
    ],
)
def test_band_limits(rule: Rule, side: Side, chi_square: float, expected: str) -> None:
    fixed = dataclasses.replace(rule, measure=lambda *_: chi_square)
    assert run(fixed).sub_rule_ref == expected


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_too_few_amounts_exit(rule: Rule, side: Side) -> None:
    history = _history([20, 10, 8, 4, 2, 1, 1, 1, 1])  # 48 + the new amount = 49
    result = run(rule, tx(amount=100), side.along(history))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".x01", None)
    history.append(edge(2, 900))  # 50
    assert run(rule, tx(amount=100), side.along(history)).sub_rule_ref == ".01"


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_zero_failed_and_out_of_range_amounts_are_left_out(rule: Rule, side: Side) -> None:
    counts = [30, 18, 12, 10, 8, 7, 6, 5, 4]
    history = [
        *_history([counts[0] - 1, *counts[1:]]),
        edge(1, 0),
        edge(1, 9000, status="RJCT"),
        edge(366, 9000),
    ]
    result = run(rule, tx(amount=100), side.along(history))
    assert result.indpdnt_varbl == pytest.approx(_chi_square(counts))


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_the_query_range_is_configurable(rule: Rule, side: Side) -> None:
    config = with_parameters(rule, maxQueryRange=1)  # nothing earlier qualifies
    result = run(rule, tx(), side.along(_history(UNIFORM)), config)
    assert result.sub_rule_ref == ".x01"


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_unsuccessful_transaction_exits(rule: Rule, side: Side) -> None:
    result = run(rule, tx(status="RJCT"), side.along(_history(UNIFORM)))
    assert result.sub_rule_ref == ".x00"


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_the_other_partys_amounts_are_not_used(rule: Rule, side: Side) -> None:
    result = run(rule, tx(), side.other.along(_history(UNIFORM)))
    assert result.sub_rule_ref == ".x01"
