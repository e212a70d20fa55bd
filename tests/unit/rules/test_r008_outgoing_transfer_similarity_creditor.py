from __future__ import annotations

import pytest

from activities.monitoring.rules.r008_outgoing_transfer_similarity_creditor import RULE
from core.monitoring.transactions import Edge
from tests.unit.rules.factory import edge, features, run, tx

CREDITOR = "acc-creditor"  # the factory transaction's creditor account


def recent(to_creditor: int, total: int = 5) -> list[Edge]:
    """`total` transfers a day apart, the newest `to_creditor` of them to CREDITOR."""
    return [
        edge(day, counterparty=CREDITOR if day <= to_creditor else f"acc-shop-{day}")
        for day in range(1, total + 1)
    ]


@pytest.mark.parametrize(
    ("to_creditor", "expected"),
    [
        (0, ".01"),
        (1, ".02"),  # lower limit inclusive
        (2, ".02"),
        (3, ".03"),
        (5, ".03"),
    ],
)
def test_bands_by_recent_transfers_to_the_same_creditor(to_creditor: int, expected: str) -> None:
    result = run(RULE, feats=features(debtor_outgoing=recent(to_creditor)))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == to_creditor


def test_only_the_most_recent_transfers_are_compared() -> None:
    history = [*recent(0, total=5), edge(5.5, counterparty=CREDITOR)]
    assert run(RULE, feats=features(debtor_outgoing=history)).indpdnt_varbl == 0


def test_failed_transfers_and_transfers_outside_the_query_range_do_not_count() -> None:
    history = [
        edge(1, counterparty=CREDITOR, status="RJCT"),
        edge(7, counterparty=CREDITOR),  # exactly 7 days ago: in range
        edge(7.01, counterparty=CREDITOR),
    ]
    result = run(RULE, feats=features(debtor_outgoing=history))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".02", 1)


def test_no_recent_transfer_is_insufficient_history() -> None:
    assert run(RULE, feats=features()).sub_rule_ref == ".x01"
    too_old = features(debtor_outgoing=[edge(8, counterparty=CREDITOR)])
    assert run(RULE, feats=too_old).sub_rule_ref == ".x01"


def test_payments_received_from_the_creditor_are_not_transfers_to_it() -> None:
    feats = features(debtor_outgoing=recent(0), debtor_incoming=[edge(1, counterparty=CREDITOR)])
    assert run(RULE, feats=feats).indpdnt_varbl == 0


def test_unsuccessful_transaction_exits() -> None:
    result = run(RULE, tx(status="RJCT"), features(debtor_outgoing=recent(5)))
    assert result.sub_rule_ref == ".x00"
    assert result.indpdnt_varbl is None
