from __future__ import annotations

import pytest

from activities.rules.r016_transaction_convergence_creditor import RULE
from saku.domain.transactions import Edge
from tests.unit.rules.factory import edge, features, run, tx


def paid_by(count: int) -> list[Edge]:
    return [edge(0.5, 50, counterparty=f"acc-payer-{i}") for i in range(count)]


@pytest.mark.parametrize(
    ("earlier_payers", "expected"),
    [
        (0, ".01"),  # only this transaction's debtor
        (1, ".01"),
        (2, ".02"),  # 3 with this debtor: lower limit inclusive
        (3, ".02"),
        (4, ".03"),  # 5 with this debtor
        (11, ".03"),
    ],
)
def test_bands_by_distinct_accounts_paying_the_creditor(earlier_payers: int, expected: str) -> None:
    result = run(RULE, feats=features(creditor_incoming=paid_by(earlier_payers)))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == earlier_payers + 1


def test_the_current_debtor_is_not_counted_twice() -> None:
    incoming = [
        *paid_by(2),
        edge(0.2, counterparty="acc-debtor"),
        edge(0.3, counterparty="acc-debtor"),
    ]
    result = run(RULE, feats=features(creditor_incoming=incoming))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".02", 3)


def test_only_successful_payments_within_the_query_range_count() -> None:
    incoming = [
        *paid_by(2),
        edge(1, counterparty="acc-at-the-edge"),  # exactly 24 hours ago: in range
        edge(1.001, counterparty="acc-too-old"),
        edge(0.5, counterparty="acc-failed", status="RJCT"),
    ]
    result = run(RULE, feats=features(creditor_incoming=incoming))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".02", 4)


def test_unsuccessful_transaction_exits() -> None:
    result = run(RULE, tx(status="RJCT"), features(creditor_incoming=paid_by(6)))
    assert result.sub_rule_ref == ".x00"
    assert result.indpdnt_varbl is None
