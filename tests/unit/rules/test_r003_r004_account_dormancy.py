"""Rules 003 (creditor) and 004 (debtor): the same measurement on either party's account."""

from __future__ import annotations

import pytest

from activities.monitoring.rules.base import Rule
from activities.monitoring.rules.r003_account_dormancy_creditor import RULE as R003
from activities.monitoring.rules.r004_account_dormancy_debtor import RULE as R004
from core.monitoring.transactions import MS_PER_DAY, Edge
from tests.unit.rules.factory import NOW, edge, run, tx
from tests.unit.rules.sides import Side, twins

TWINS = twins(R004, R003)


def at_age(age_ms: int, status: str = "ACCC") -> Edge:
    return edge(at_ms=NOW - age_ms, status=status)


@pytest.mark.parametrize(("rule", "side"), TWINS)
@pytest.mark.parametrize(
    ("idle_ms", "expected"),
    [
        (0, ".01"),
        (30 * MS_PER_DAY - 1, ".01"),
        (30 * MS_PER_DAY, ".02"),  # lower limit inclusive
        (90 * MS_PER_DAY - 1, ".02"),
        (90 * MS_PER_DAY, ".03"),
        (365 * MS_PER_DAY - 1, ".03"),
        (365 * MS_PER_DAY, ".04"),
        (3 * 365 * MS_PER_DAY, ".04"),
    ],
)
def test_bands_by_time_since_last_activity(
    rule: Rule, side: Side, idle_ms: int, expected: str
) -> None:
    history = [at_age(idle_ms), at_age(idle_ms + 10 * MS_PER_DAY)]
    result = run(rule, feats=side.features(outgoing=history))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == idle_ms


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_the_latest_activity_in_either_direction_counts(rule: Rule, side: Side) -> None:
    feats = side.features(outgoing=[at_age(200 * MS_PER_DAY)], incoming=[at_age(45 * MS_PER_DAY)])
    result = run(rule, feats=feats)
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".02", 45 * MS_PER_DAY)


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_failed_attempts_do_not_wake_a_dormant_account(rule: Rule, side: Side) -> None:
    history = [at_age(MS_PER_DAY, status="RJCT"), at_age(400 * MS_PER_DAY)]
    result = run(rule, feats=side.features(incoming=history))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".04", 400 * MS_PER_DAY)


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_no_earlier_activity_is_insufficient_history(rule: Rule, side: Side) -> None:
    assert run(rule, feats=side.features()).sub_rule_ref == ".x01"
    only_failed = side.features(outgoing=[at_age(MS_PER_DAY, status="RJCT")])
    result = run(rule, feats=only_failed)
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".x01", None)


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_the_other_partys_activity_is_not_looked_at(rule: Rule, side: Side) -> None:
    feats = side.features(other_outgoing=[at_age(MS_PER_DAY)], other_incoming=[at_age(MS_PER_DAY)])
    assert run(rule, feats=feats).sub_rule_ref == ".x01"


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_unsuccessful_transaction_exits(rule: Rule, side: Side) -> None:
    result = run(rule, tx(status="RJCT"), side.features(outgoing=[at_age(MS_PER_DAY)]))
    assert result.sub_rule_ref == ".x00"
