from __future__ import annotations

import pytest

from activities.rules.r011_increased_activity_volume_creditor import RULE
from saku.domain.transactions import MS_PER_DAY, Edge
from saku.monitoring.config import RuleConfig
from tests.unit.rules.factory import NOW, edge, features, run, tx, with_parameters

DAY = MS_PER_DAY


def per_day(*counts: int) -> list[Edge]:
    """counts[k - 1] transactions in earlier interval k (ages [k, k + 1) days)."""
    return [edge(k + 0.5) for k, n in enumerate(counts, 1) for _ in range(n)]


def now_too(count: int) -> list[Edge]:
    """Earlier transactions inside the current interval (the last 24 hours)."""
    return [edge(0.1) for _ in range(count)]


def four_days() -> RuleConfig:
    return with_parameters(RULE, maxQueryRange=4 * DAY, minimumNumberOfIntervals=4)


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
def test_bands_by_standard_score_of_the_current_volume(current: int, expected: str) -> None:
    # earlier intervals 0, 20, 0, 20: mean 10, standard deviation 10
    history = per_day(0, 20, 0, 20) + now_too(current - 1)  # the transaction itself is one
    feats = features(creditor_incoming=history, creditor_first_seen_ms=NOW - 10 * DAY)
    result = run(RULE, tx(), feats, four_days())
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == pytest.approx((current - 10) / 10)


def test_interval_edges_and_what_counts() -> None:
    config = with_parameters(RULE, maxQueryRange=2 * DAY, minimumNumberOfIntervals=2)
    history = [
        edge(at_ms=NOW - DAY),  # exactly one interval old: the previous interval, not now
        edge(0.2, status="RJCT"),  # failed: not counted
        edge(3.5),  # beyond the two earlier intervals: not counted
    ]
    feats = features(creditor_incoming=history, creditor_first_seen_ms=NOW - 10 * DAY)
    result = run(RULE, tx(), feats, config)
    # earlier intervals 1, 0 (mean 0.5, sd 0.5); now 1 -> z = 1
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".01", 1.0)


def test_the_other_direction_is_not_counted() -> None:
    feats = features(
        creditor_outgoing=per_day(0, 20, 0, 20) + now_too(50),
        creditor_first_seen_ms=NOW - 10 * DAY,
    )
    assert run(RULE, tx(), feats, four_days()).sub_rule_ref == ".x03"  # all-zero history


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
    first_seen_ms: int | None, expected: str
) -> None:
    result = run(RULE, feats=features(creditor_first_seen_ms=first_seen_ms))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl is None


def test_no_variance_exits_by_direction() -> None:
    seen = NOW - 60 * DAY
    quiet = features(creditor_first_seen_ms=seen)  # zero every earlier day, one now
    assert run(RULE, feats=quiet).sub_rule_ref == ".x03"
    steady = features(creditor_incoming=per_day(*[2] * 30), creditor_first_seen_ms=seen)
    assert run(RULE, feats=steady).sub_rule_ref == ".x04"  # 1 now, 2 usual
    same = features(creditor_incoming=per_day(*[2] * 30) + now_too(1), creditor_first_seen_ms=seen)
    assert run(RULE, feats=same).sub_rule_ref == ".x04"  # 2 now, 2 usual: not above


def test_days_before_the_account_existed_are_not_a_quiet_history() -> None:
    # seen 9 days ago: 8 earlier intervals of one transaction each, no zero-filled past
    feats = features(creditor_incoming=per_day(*[1] * 8), creditor_first_seen_ms=NOW - 9 * DAY)
    assert run(RULE, feats=feats).sub_rule_ref == ".x04"


def test_unsuccessful_transaction_exits() -> None:
    feats = features(creditor_first_seen_ms=NOW - 60 * DAY)
    assert run(RULE, tx(status="RJCT"), feats).sub_rule_ref == ".x00"
