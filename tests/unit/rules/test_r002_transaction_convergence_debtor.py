from __future__ import annotations

import pytest

from activities.rules.r002_transaction_convergence_debtor import RULE
from saku.domain.transactions import Edge
from tests.unit.rules.factory import edge, features, run, tx


def paid_by(count: int) -> list[Edge]:
    return [edge(0.5, 50, counterparty=f"acc-payer-{i}") for i in range(count)]


@pytest.mark.parametrize(
    ("payers", "expected"),
    [
        (0, ".01"),
        (2, ".01"),
        (3, ".02"),  # lower limit inclusive
        (4, ".02"),
        (5, ".03"),
        (12, ".03"),
    ],
)
def test_bands_by_distinct_accounts_paying_the_debtor(payers: int, expected: str) -> None:
    result = run(RULE, feats=features(debtor_incoming=paid_by(payers)))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == payers


def test_an_account_paying_several_times_counts_once() -> None:
    incoming = [edge(0.1 * i, 10, counterparty=f"acc-payer-{i % 2}") for i in range(1, 7)]
    assert run(RULE, feats=features(debtor_incoming=incoming)).indpdnt_varbl == 2


def test_only_successful_payments_within_the_query_range_count() -> None:
    incoming = [
        *paid_by(3),
        edge(1, counterparty="acc-at-the-edge"),  # exactly 24 hours ago: in range
        edge(1.001, counterparty="acc-too-old"),
        edge(0.5, counterparty="acc-failed", status="RJCT"),
    ]
    result = run(RULE, feats=features(debtor_incoming=incoming))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".02", 4)


def test_the_debtors_outgoing_payments_are_not_convergence() -> None:
    result = run(RULE, feats=features(debtor_outgoing=paid_by(6)))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".01", 0)


def test_unsuccessful_transaction_exits() -> None:
    result = run(RULE, tx(status="RJCT"), features(debtor_incoming=paid_by(6)))
    assert result.sub_rule_ref == ".x00"
    assert result.indpdnt_varbl is None
