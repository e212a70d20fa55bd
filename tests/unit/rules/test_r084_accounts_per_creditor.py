from __future__ import annotations

import pytest

from activities.rules.r084_accounts_per_creditor import RULE
from tests.unit.rules.factory import features, run, tx


@pytest.mark.parametrize(
    ("accounts", "expected"),
    [(1, ".01"), (2, ".02"), (3, ".02"), (4, ".03"), (12, ".03")],
)
def test_bands_by_number_of_accounts(accounts: int, expected: str) -> None:
    result = run(RULE, feats=features(creditor_accounts=accounts, debtor_accounts=9))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == accounts


def test_unknown_accounts_are_insufficient_data() -> None:
    result = run(RULE, feats=features(creditor_accounts=0))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".x01", None)


def test_unsuccessful_transaction_exits() -> None:
    result = run(RULE, tx(status="RJCT"), features(creditor_accounts=5))
    assert result.sub_rule_ref == ".x00"
