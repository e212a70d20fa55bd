"""Rules 020 (creditor, incoming transfers) and 048 (debtor, outgoing transfers): the amount's
z-score against the account's history in the transaction's direction. Their bands differ, so
band expectations are given per rule as (020's, 048's)."""

from __future__ import annotations

import pytest

from activities.monitoring.rules.base import Rule
from activities.monitoring.rules.r020_large_amount_vs_history_creditor import RULE as R020
from activities.monitoring.rules.r048_large_amount_vs_history_debtor import RULE as R048
from tests.unit.rules.factory import edge, run, tx, with_parameters
from tests.unit.rules.sides import Side, twins

TWINS = twins(R048, R020)

# mean 150, population standard deviation 50
HISTORY = [edge(i + 1, amount) for i, amount in enumerate([100, 200, 100, 200, 100, 200])]


def per_rule(rule: Rule, for_020: str, for_048: str) -> str:
    return for_020 if rule is R020 else for_048


@pytest.mark.parametrize(("rule", "side"), TWINS)
@pytest.mark.parametrize(
    ("amount", "for_020", "for_048"),
    [
        (0, ".01", ".01"),  # z = -3: below the mean
        (50, ".01", ".01"),  # z = -2: smaller than usual is not large
        (150, ".01", ".01"),
        (199.99, ".01", ".01"),
        (200, ".02", ".01"),  # z = 1, 020's lower limit inclusive
        (249.99, ".02", ".01"),
        (250, ".03", ".02"),  # z = 2, lower limit inclusive
        (299.99, ".03", ".02"),
        (300, ".04", ".03"),  # z = 3
        (399.99, ".04", ".03"),
        (400, ".04", ".04"),  # z = 5, 048's lower limit inclusive
        (5000, ".04", ".04"),
        (10_000, ".04", ".04"),
    ],
)
def test_bands_by_z_score(
    rule: Rule, side: Side, amount: float, for_020: str, for_048: str
) -> None:
    result = run(rule, tx(amount=amount), side.along(HISTORY))
    assert result.sub_rule_ref == per_rule(rule, for_020, for_048)
    assert result.indpdnt_varbl == pytest.approx((amount - 150) / 50)


@pytest.mark.parametrize(("rule", "side"), TWINS)
@pytest.mark.parametrize("count", [0, 4])
def test_too_little_history_exits(rule: Rule, side: Side, count: int) -> None:
    result = run(rule, tx(amount=5000), side.along(HISTORY[:count]))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".x01", None)


@pytest.mark.parametrize(("rule", "side"), TWINS)
@pytest.mark.parametrize(
    ("amount", "expected", "value"),
    [
        (100.01, ".x03", None),
        (120, ".x03", None),
        (99.99, ".x04", None),
        (80, ".x04", None),
        (100, ".01", 0.0),
    ],
)
def test_history_without_variance(
    rule: Rule, side: Side, amount: float, expected: str, value: float | None
) -> None:
    same = [edge(day, 100) for day in range(1, 6)]
    result = run(rule, tx(amount=amount), side.along(same))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (expected, value)


@pytest.mark.parametrize(("rule", "side"), TWINS)
@pytest.mark.parametrize(
    ("amount", "expected"), [(1234.57, ".x03"), (1234.55, ".x04"), (1234.56, ".01")]
)
def test_float_noise_is_not_variance(rule: Rule, side: Side, amount: float, expected: str) -> None:
    history = [edge(i + 1, 1234.56) for i in range(7)]  # population stdev ~2e-13, not 0
    result = run(rule, tx(amount=amount), side.along(history))
    assert result.sub_rule_ref == expected


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_history_outside_the_query_range_and_failed_transfers_do_not_count(
    rule: Rule, side: Side
) -> None:
    noise = [edge(91, 10_000), edge(1, 10_000, status="RJCT"), edge(-1, 10_000)]
    result = run(rule, tx(amount=300), side.along(HISTORY + noise))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (per_rule(rule, ".04", ".03"), 3)


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_failed_and_out_of_range_transfers_are_not_history(rule: Rule, side: Side) -> None:
    history = [*HISTORY[:4], edge(2, 100_000, status="RJCT"), edge(91, 100_000)]
    assert run(rule, tx(amount=400), side.along(history)).sub_rule_ref == ".x01"
    config = with_parameters(rule, minimumNumberOfTransactions=4)
    result = run(rule, tx(amount=400), side.along(history), config)
    assert result.indpdnt_varbl == pytest.approx(5.0)  # mean 150, sd 50 from the 4 valid ones


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_the_minimum_history_is_configurable(rule: Rule, side: Side) -> None:
    config = with_parameters(rule, minimumNumberOfTransactions=2)
    result = run(rule, tx(amount=200), side.along(HISTORY[:2]), config)
    # mean 150, stdev 50
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (per_rule(rule, ".02", ".01"), 1)


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_the_other_partys_history_is_not_read(rule: Rule, side: Side) -> None:
    feats = side.other.features(incoming=HISTORY, outgoing=HISTORY)
    assert run(rule, tx(amount=300), feats).sub_rule_ref == ".x01"


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_unsuccessful_transaction_exits(rule: Rule, side: Side) -> None:
    result = run(rule, tx(status="RJCT"), side.along(HISTORY))
    assert result.sub_rule_ref == ".x00"
