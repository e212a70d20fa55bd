from __future__ import annotations

import pytest

from activities.monitoring.rules.s09_topup_refund_cycling import RULE
from core.monitoring.transactions import TxType
from tests.unit.rules.factory import features, run, school, tx

TOP_UP = tx(tx_type=TxType.TOP_UP, amount=250_000)


@pytest.mark.parametrize(
    ("cycles", "expected"), [(0, ".01"), (1, ".02"), (2, ".02"), (3, ".03"), (11, ".03")]
)
def test_bands_by_top_up_refund_cycles_in_30_days(cycles: int, expected: str) -> None:
    result = run(RULE, TOP_UP, features(school=school(topup_refund_cycles_30d=cycles)))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == cycles


def test_no_school_context_is_insufficient_data() -> None:
    assert run(RULE, TOP_UP, features()).sub_rule_ref == ".x01"


def test_unsuccessful_transaction_exits() -> None:
    feats = features(school=school(topup_refund_cycles_30d=5))
    assert run(RULE, tx(tx_type=TxType.TOP_UP, status="RJCT"), feats).sub_rule_ref == ".x00"
