"""Rules 083 (debtor) and 084 (creditor): the same count on either party's entity."""

from __future__ import annotations

import pytest

from activities.monitoring.rules.base import Rule
from activities.monitoring.rules.r083_accounts_per_debtor import RULE as R083
from activities.monitoring.rules.r084_accounts_per_creditor import RULE as R084
from tests.unit.rules.factory import run, tx
from tests.unit.rules.sides import Side, twins

TWINS = twins(R083, R084)


@pytest.mark.parametrize(("rule", "side"), TWINS)
@pytest.mark.parametrize(
    ("accounts", "expected"),
    [(1, ".01"), (2, ".02"), (3, ".02"), (4, ".03"), (12, ".03")],
)
def test_bands_by_number_of_accounts(rule: Rule, side: Side, accounts: int, expected: str) -> None:
    result = run(rule, feats=side.features(accounts=accounts, other_accounts=9))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == accounts


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_unknown_accounts_are_insufficient_data(rule: Rule, side: Side) -> None:
    result = run(rule, feats=side.features(accounts=0))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".x01", None)


@pytest.mark.parametrize(("rule", "side"), TWINS)
def test_unsuccessful_transaction_exits(rule: Rule, side: Side) -> None:
    result = run(rule, tx(status="RJCT"), side.features(accounts=5))
    assert result.sub_rule_ref == ".x00"
