"""Rules 002 (debtor) and 016 (creditor): distinct accounts paying into the party's account.

The creditor is paid by this transaction too, so 016 counts this transaction's debtor as
one more payer; 002 counts earlier payers only.
"""

from __future__ import annotations

import pytest

from activities.monitoring.rules.base import Rule
from activities.monitoring.rules.r002_transaction_convergence_debtor import RULE as R002
from activities.monitoring.rules.r016_transaction_convergence_creditor import RULE as R016
from core.monitoring.transactions import Edge
from tests.unit.rules.factory import edge, run, tx
from tests.unit.rules.sides import CREDITOR, DEBTOR, Side, twins

TWINS = twins(R002, R016)


def paid_by(count: int) -> list[Edge]:
    return [edge(0.5, 50, counterparty=f"acc-payer-{i}") for i in range(count)]


# (earlier payers, band, measured): 016 adds this transaction's debtor to the earlier payers
BANDS_002 = [
    (0, ".01", 0),
    (2, ".01", 2),
    (3, ".02", 3),  # lower limit inclusive
    (4, ".02", 4),
    (5, ".03", 5),
    (12, ".03", 12),
]
BANDS_016 = [
    (0, ".01", 1),  # only this transaction's debtor
    (1, ".01", 2),
    (2, ".02", 3),  # 3 with this debtor: lower limit inclusive
    (3, ".02", 4),
    (4, ".03", 5),  # 5 with this debtor
    (11, ".03", 12),
]


@pytest.mark.parametrize(
    ("rule", "side", "earlier_payers", "expected", "measured"),
    [
        *(pytest.param(R002, DEBTOR, *row, id=f"002-{row[0]}-{row[1]}") for row in BANDS_002),
        *(pytest.param(R016, CREDITOR, *row, id=f"016-{row[0]}-{row[1]}") for row in BANDS_016),
    ],
)
def test_bands_by_distinct_accounts_paying_the_party(
    rule: Rule, side: Side, earlier_payers: int, expected: str, measured: int
) -> None:
    result = run(rule, feats=side.features(incoming=paid_by(earlier_payers)))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == measured


@pytest.mark.parametrize(
    ("rule", "side", "measured"),
    twins(R002, R016, debtor=(2,), creditor=(3,)),
)
def test_an_account_paying_several_times_counts_once(rule: Rule, side: Side, measured: int) -> None:
    incoming = [edge(0.1 * i, 10, counterparty=f"acc-payer-{i % 2}") for i in range(1, 7)]
    assert run(rule, feats=side.features(incoming=incoming)).indpdnt_varbl == measured


def test_the_current_debtor_is_not_counted_twice() -> None:
    incoming = [
        *paid_by(2),
        edge(0.2, counterparty="acc-debtor"),
        edge(0.3, counterparty="acc-debtor"),
    ]
    result = run(R016, feats=CREDITOR.features(incoming=incoming))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".02", 3)


@pytest.mark.parametrize(
    ("rule", "side", "earlier_payers"),
    twins(R002, R016, debtor=(3,), creditor=(2,)),
)
def test_only_successful_payments_within_the_query_range_count(
    rule: Rule, side: Side, earlier_payers: int
) -> None:
    incoming = [
        *paid_by(earlier_payers),
        edge(1, counterparty="acc-at-the-edge"),  # exactly 24 hours ago: in range
        edge(1.001, counterparty="acc-too-old"),
        edge(0.5, counterparty="acc-failed", status="RJCT"),
    ]
    result = run(rule, feats=side.features(incoming=incoming))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".02", 4)


@pytest.mark.parametrize(
    ("rule", "side", "measured"),
    twins(R002, R016, debtor=(0,), creditor=(1,)),
)
def test_the_partys_outgoing_payments_are_not_convergence(
    rule: Rule, side: Side, measured: int
) -> None:
    result = run(rule, feats=side.features(outgoing=paid_by(6)))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".01", measured)


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_unsuccessful_transaction_exits(rule: Rule, side: Side) -> None:
    result = run(rule, tx(status="RJCT"), side.features(incoming=paid_by(6)))
    assert result.sub_rule_ref == ".x00"
    assert result.indpdnt_varbl is None
