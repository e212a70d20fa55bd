"""Rules 010 (debtor, outgoing) and 011 (creditor, incoming): the same measurement on the
party's history in the transaction's direction."""

from __future__ import annotations

import pytest

from activities.monitoring.rules.base import Rule
from activities.monitoring.rules.r010_increased_activity_volume_debtor import RULE as R010
from activities.monitoring.rules.r011_increased_activity_volume_creditor import RULE as R011
from core.monitoring.config import RuleConfig
from core.monitoring.transactions import MS_PER_DAY, Edge
from tests.unit.rules.factory import NOW, edge, run, tx, with_parameters
from tests.unit.rules.sides import Side, twins

DAY = MS_PER_DAY
TWINS = twins(R010, R011)


def per_day(*counts: int) -> list[Edge]:
    """counts[k - 1] transactions in earlier interval k (ages [k, k + 1) days)."""
    return [edge(k + 0.5) for k, n in enumerate(counts, 1) for _ in range(n)]


def now_too(count: int) -> list[Edge]:
    """Earlier transactions inside the current interval (the last 24 hours)."""
    return [edge(0.1) for _ in range(count)]


def four_days(rule: Rule) -> RuleConfig:
    return with_parameters(rule, maxQueryRange=4 * DAY, minimumNumberOfIntervals=4)


@pytest.mark.parametrize(("rule", "side"), TWINS)
@pytest.mark.parametrize(
    ("current", "expected"),
    [
        (1, ".01"),  # z = -0.9
        (29, ".01"),  # z = 1.9
        (30, ".02"),  # z = 2: lower limit inclusive
        (39, ".02"),  # z = 2.9
        (40, ".03"),  # z = 3
        (90, ".03"),
    ],
)
def test_bands_by_standard_score_of_the_current_volume(
    rule: Rule, side: Side, current: int, expected: str
) -> None:
    # earlier intervals 0, 20, 0, 20: mean 10, standard deviation 10
    history = per_day(0, 20, 0, 20) + now_too(current - 1)  # the transaction itself is one
    feats = side.along(history, first_seen_ms=NOW - 10 * DAY)
    result = run(rule, tx(), feats, four_days(rule))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == pytest.approx((current - 10) / 10)


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_interval_edges_and_what_counts(rule: Rule, side: Side) -> None:
    config = with_parameters(rule, maxQueryRange=2 * DAY, minimumNumberOfIntervals=2)
    history = [
        edge(at_ms=NOW - DAY),  # exactly one interval old: the previous interval, not now
        edge(0.2, status="RJCT"),  # failed: not counted
        edge(3.5),  # beyond the two earlier intervals: not counted
    ]
    feats = side.along(history, first_seen_ms=NOW - 10 * DAY)
    result = run(rule, tx(), feats, config)
    # earlier intervals 1, 0 (mean 0.5, sd 0.5); now 1 -> z = 1
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".01", 1.0)


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_the_other_direction_is_not_counted(rule: Rule, side: Side) -> None:
    feats = side.against(per_day(0, 20, 0, 20) + now_too(50), first_seen_ms=NOW - 10 * DAY)
    assert run(rule, tx(), feats, four_days(rule)).sub_rule_ref == ".x03"  # all-zero history


@pytest.mark.parametrize(("rule", "side"), TWINS)
@pytest.mark.parametrize(
    ("first_seen_ms", "expected"),
    [
        (None, ".x01"),
        (NOW, ".x01"),
        (NOW - 8 * DAY + 1, ".x01"),  # 6 complete earlier intervals, default minimum is 7
        (NOW - 8 * DAY, ".x03"),  # 7
        (NOW - 365 * DAY, ".x03"),
    ],
)
def test_too_short_an_account_history_is_insufficient(
    rule: Rule, side: Side, first_seen_ms: int | None, expected: str
) -> None:
    result = run(rule, feats=side.along(first_seen_ms=first_seen_ms))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl is None


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_no_variance_exits_by_direction(rule: Rule, side: Side) -> None:
    seen = NOW - 60 * DAY
    quiet = side.along(first_seen_ms=seen)  # zero every earlier day, one now
    assert run(rule, feats=quiet).sub_rule_ref == ".x03"
    steady = side.along(per_day(*[2] * 30), first_seen_ms=seen)
    assert run(rule, feats=steady).sub_rule_ref == ".x04"  # 1 now, 2 usual
    same = side.along(per_day(*[2] * 30) + now_too(1), first_seen_ms=seen)
    assert run(rule, feats=same).sub_rule_ref == ".x04"  # 2 now, 2 usual: not above


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_days_before_the_account_existed_are_not_a_quiet_history(rule: Rule, side: Side) -> None:
    # seen 9 days ago: 8 earlier intervals of one transaction each, no zero-filled past
    feats = side.along(per_day(*[1] * 8), first_seen_ms=NOW - 9 * DAY)
    assert run(rule, feats=feats).sub_rule_ref == ".x04"


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_unsuccessful_transaction_exits(rule: Rule, side: Side) -> None:
    feats = side.along(first_seen_ms=NOW - 60 * DAY)
    assert run(rule, tx(status="RJCT"), feats).sub_rule_ref == ".x00"
