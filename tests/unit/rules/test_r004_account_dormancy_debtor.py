from __future__ import annotations

import pytest

from activities.rules.r004_account_dormancy_debtor import RULE
from saku.domain.transactions import MS_PER_DAY, Edge
from tests.unit.rules.factory import NOW, edge, features, run, tx


def at_age(age_ms: int, status: str = "ACCC") -> Edge:
    return edge(at_ms=NOW - age_ms, status=status)


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
def test_bands_by_time_since_last_activity(idle_ms: int, expected: str) -> None:
    history = [at_age(idle_ms), at_age(idle_ms + 10 * MS_PER_DAY)]
    result = run(RULE, feats=features(debtor_outgoing=history))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == idle_ms


def test_the_latest_activity_in_either_direction_counts() -> None:
    feats = features(
        debtor_outgoing=[at_age(200 * MS_PER_DAY)], debtor_incoming=[at_age(45 * MS_PER_DAY)]
    )
    result = run(RULE, feats=feats)
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".02", 45 * MS_PER_DAY)


def test_failed_attempts_do_not_wake_a_dormant_account() -> None:
    history = [at_age(MS_PER_DAY, status="RJCT"), at_age(400 * MS_PER_DAY)]
    result = run(RULE, feats=features(debtor_incoming=history))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".04", 400 * MS_PER_DAY)


def test_no_earlier_activity_is_insufficient_history() -> None:
    assert run(RULE, feats=features()).sub_rule_ref == ".x01"
    only_failed = features(debtor_outgoing=[at_age(MS_PER_DAY, status="RJCT")])
    result = run(RULE, feats=only_failed)
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".x01", None)


def test_the_creditors_activity_is_not_looked_at() -> None:
    feats = features(creditor_outgoing=[at_age(MS_PER_DAY)], creditor_incoming=[at_age(MS_PER_DAY)])
    assert run(RULE, feats=feats).sub_rule_ref == ".x01"


def test_unsuccessful_transaction_exits() -> None:
    result = run(RULE, tx(status="RJCT"), features(debtor_outgoing=[at_age(MS_PER_DAY)]))
    assert result.sub_rule_ref == ".x00"
