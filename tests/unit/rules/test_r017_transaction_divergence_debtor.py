from __future__ import annotations

import pytest

from activities.monitoring.rules.r017_transaction_divergence_debtor import RULE
from core.monitoring.transactions import MS_PER_DAY, Edge
from tests.unit.rules.factory import HOUR, NOW, edge, features, run, tx


def paid_accounts(count: int) -> list[Edge]:
    """Outgoing history to `count` distinct accounts, none of them this payment's creditor."""
    return [edge(0.5, counterparty=f"acc-{i}") for i in range(count)]


@pytest.mark.parametrize(
    ("distinct", "expected"),
    [
        (1, ".01"),  # this payment's creditor alone
        (2, ".01"),
        (3, ".02"),  # lower limit inclusive
        (5, ".02"),
        (6, ".03"),
        (9, ".03"),
        (10, ".04"),
        (25, ".04"),
    ],
)
def test_bands_by_distinct_creditor_accounts(distinct: int, expected: str) -> None:
    result = run(RULE, tx(), features(debtor_outgoing=paid_accounts(distinct - 1)))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == distinct


def test_repeat_payments_to_one_account_count_once() -> None:
    history = [edge(0.1, counterparty="acc-creditor"), edge(0.2, counterparty="acc-a")]
    history += [edge(0.3, counterparty="acc-a"), edge(0.4, counterparty="acc-a")]
    result = run(RULE, tx(), features(debtor_outgoing=history))
    assert result.indpdnt_varbl == 2  # acc-creditor and acc-a


def test_history_outside_the_query_range_and_failed_transfers_do_not_count() -> None:
    history = [
        edge(at_ms=NOW - MS_PER_DAY, counterparty="acc-edge"),  # exactly at the range: counts
        edge(at_ms=NOW - MS_PER_DAY - 1, counterparty="acc-old"),
        edge(at_ms=NOW - HOUR, counterparty="acc-failed", status="RJCT"),
        edge(at_ms=NOW + HOUR, counterparty="acc-future"),
    ]
    result = run(RULE, tx(), features(debtor_outgoing=history))
    assert result.indpdnt_varbl == 2  # acc-creditor and acc-edge


def test_unsuccessful_transaction_exits() -> None:
    result = run(RULE, tx(status="RJCT"), features(debtor_outgoing=paid_accounts(20)))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".x00", None)
