from __future__ import annotations

import pytest

from activities.monitoring.rules.s08_many_payers import RULE
from core.monitoring.transactions import TxType
from tests.unit.rules.factory import features, run, school, tx

TOP_UP = tx(tx_type=TxType.TOP_UP, amount=100_000)


@pytest.mark.parametrize(
    ("payers", "expected"),
    [(0, ".01"), (2, ".01"), (3, ".02"), (4, ".02"), (5, ".03"), (9, ".03"), (10, ".04")],
)
def test_bands_by_distinct_payers_in_30_days(payers: int, expected: str) -> None:
    result = run(RULE, TOP_UP, features(school=school(distinct_payers_30d=payers)))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == payers


def test_no_school_context_is_insufficient_data() -> None:
    assert run(RULE, TOP_UP, features()).sub_rule_ref == ".x01"


def test_unsuccessful_transaction_exits() -> None:
    feats = features(school=school(distinct_payers_30d=12))
    assert run(RULE, tx(tx_type=TxType.TOP_UP, status="RJCT"), feats).sub_rule_ref == ".x00"
