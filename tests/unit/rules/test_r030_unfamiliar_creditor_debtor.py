from __future__ import annotations

import pytest

from activities.monitoring.rules.r030_unfamiliar_creditor_debtor import RULE
from core.monitoring.transactions import Edge
from tests.unit.rules.factory import edge, features, run, tx, with_parameters

ELSEWHERE = edge(1, counterparty="acc-elsewhere")  # the debtor pays other accounts too


def paid_creditor(times: int) -> list[Edge]:
    return [edge(day + 2, counterparty="acc-creditor") for day in range(times)] + [ELSEWHERE]


@pytest.mark.parametrize(
    ("times", "expected"),
    [(0, ".01"), (1, ".02"), (2, ".02"), (3, ".03"), (20, ".03")],
)
def test_bands_by_earlier_payments_to_this_creditor(times: int, expected: str) -> None:
    result = run(RULE, tx(), features(debtor_outgoing=paid_creditor(times)))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (expected, times)


def test_other_accounts_of_the_creditor_side_do_not_count() -> None:
    history = [edge(1, counterparty="acc-creditor-2"), edge(2, counterparty="acc-creditor")]
    result = run(RULE, tx(creditor_account="acc-creditor-2"), features(debtor_outgoing=history))
    assert result.indpdnt_varbl == 1


def test_a_debtor_without_outgoing_history_exits() -> None:
    assert run(RULE, tx(), features()).sub_rule_ref == ".x01"


def test_history_outside_the_query_range_and_failed_transfers_do_not_count() -> None:
    stale = [
        edge(91, counterparty="acc-creditor"),
        edge(1, counterparty="acc-creditor", status="RJCT"),
    ]
    assert run(RULE, tx(), features(debtor_outgoing=stale)).sub_rule_ref == ".x01"
    history = [*stale, edge(90, counterparty="acc-creditor"), ELSEWHERE]
    result = run(RULE, tx(), features(debtor_outgoing=history))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".02", 1)  # only the 90-day-old one


def test_the_minimum_history_is_configurable() -> None:
    config = with_parameters(RULE, minimumNumberOfTransactions=3)
    feats = features(debtor_outgoing=paid_creditor(1))  # 2 transfers in all
    assert run(RULE, tx(), feats, config).sub_rule_ref == ".x01"
    assert run(RULE, tx(), feats).sub_rule_ref == ".02"


def test_unsuccessful_transaction_exits() -> None:
    result = run(RULE, tx(status="RJCT"), features(debtor_outgoing=paid_creditor(0)))
    assert result.sub_rule_ref == ".x00"
