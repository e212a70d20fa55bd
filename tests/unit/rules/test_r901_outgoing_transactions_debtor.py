from __future__ import annotations

import pytest

from activities.rules.r901_outgoing_transactions_debtor import RULE
from saku.domain.transactions import Edge
from tests.unit.rules.factory import HOUR, NOW, edge, features, run, tx


def _within_a_day(count: int) -> list[Edge]:  # earlier transactions spread over the last 23 hours
    return [edge(at_ms=NOW - (i % 23 + 1) * HOUR) for i in range(count)]


@pytest.mark.parametrize(
    ("earlier", "expected"),
    [(0, ".01"), (3, ".01"), (4, ".02"), (8, ".02"), (9, ".03"), (18, ".03"), (19, ".04")],
)
def test_bands_by_outgoing_transactions_in_24_hours(earlier: int, expected: str) -> None:
    result = run(RULE, feats=features(debtor_outgoing=_within_a_day(earlier)))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == earlier + 1  # the new transaction counts


def test_failed_attempts_count_but_older_than_24_hours_do_not() -> None:
    history = [
        edge(at_ms=NOW - HOUR, status="RJCT"),
        edge(at_ms=NOW - 24 * HOUR),  # exactly at the edge of the range: counts
        edge(at_ms=NOW - 24 * HOUR - 1),
        edge(at_ms=NOW + 1),  # after the transaction being evaluated
    ]
    result = run(RULE, feats=features(debtor_outgoing=history))
    assert result.indpdnt_varbl == 3


def test_unsuccessful_transaction_exits() -> None:
    result = run(RULE, tx(status="RJCT"), features(debtor_outgoing=_within_a_day(30)))
    assert result.sub_rule_ref == ".x00"
