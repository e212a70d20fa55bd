from __future__ import annotations

import pytest

from activities.monitoring.rules.r090_upstream_divergence_debtor import RULE
from core.monitoring.transactions import Edge
from tests.unit.rules.factory import edge, features, run, tx

FUNDING = [edge(2, 1_000_000, "acc-upstream")]


def _paid(*creditors: str, days_ago: float = 1, **overrides: str) -> list[Edge]:
    return [edge(days_ago, 100, c, **overrides) for c in creditors]


@pytest.mark.parametrize(
    ("others", "expected"),
    [
        (0, ".01"),  # only the new transaction's creditor
        (1, ".02"),  # 2 creditors: lower limit inclusive
        (2, ".02"),
        (3, ".03"),
        (5, ".03"),
        (6, ".04"),
        (12, ".04"),
    ],
)
def test_bands_by_distinct_creditors_since_funding(others: int, expected: str) -> None:
    paid = _paid(*(f"acc-{i}" for i in range(others)))
    result = run(RULE, feats=features(debtor_incoming=FUNDING, debtor_outgoing=paid))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == others + 1


def test_only_distinct_successful_payments_since_the_latest_funding_count() -> None:
    incoming = [*FUNDING, edge(5, 500, "acc-earlier-funding")]
    paid = [
        *_paid("acc-a", "acc-a", "acc-creditor"),  # repeats and the new creditor: once each
        *_paid("acc-b", status="RJCT"),
        *_paid("acc-c", "acc-d", days_ago=3),  # before the latest funding
        *_paid("acc-e", days_ago=-1),  # after the transaction being evaluated
    ]
    result = run(RULE, feats=features(debtor_incoming=incoming, debtor_outgoing=paid))
    assert result.indpdnt_varbl == 2  # acc-a and acc-creditor


def test_payments_at_the_funding_instant_count() -> None:
    paid = [edge(2, 100, "acc-a")]
    result = run(RULE, feats=features(debtor_incoming=FUNDING, debtor_outgoing=paid))
    assert result.indpdnt_varbl == 2


@pytest.mark.parametrize(
    "incoming",
    [
        [],
        [edge(8, 1_000_000, "acc-upstream")],  # outside the 7-day query range
        [edge(2, 1_000_000, "acc-upstream", status="RJCT")],
    ],
)
def test_no_funding_in_range_exits(incoming: list[Edge]) -> None:
    paid = _paid("acc-a", "acc-b")
    result = run(RULE, feats=features(debtor_incoming=incoming, debtor_outgoing=paid))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".x01", None)


def test_unsuccessful_transaction_exits() -> None:
    result = run(RULE, tx(status="RJCT"), features(debtor_incoming=FUNDING))
    assert result.sub_rule_ref == ".x00"
