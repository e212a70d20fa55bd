from __future__ import annotations

import pytest

from activities.monitoring.rules.r078_transaction_type import RULE
from core.monitoring.transactions import TxType
from tests.unit.rules.factory import run, tx


@pytest.mark.parametrize(
    ("tx_type", "expected"),
    [
        (TxType.KIOSK_PURCHASE, ".01"),
        (TxType.TOP_UP, ".02"),
        (TxType.PACS_002, ".03"),
        (TxType.PACS_008, ".04"),
        (TxType.PAIN_001, ".05"),
        (TxType.PAIN_013, ".06"),
    ],
)
def test_each_known_type_is_a_case(tx_type: str, expected: str) -> None:
    result = run(RULE, tx(tx_type=tx_type))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == tx_type


def test_every_accepted_type_has_its_own_case() -> None:
    cases = RULE.default_config.config.cases
    assert cases is not None
    assert {c.value for c in cases.expressions} == TxType.ALL


def test_an_unknown_type_falls_to_the_alternative() -> None:
    result = run(RULE, tx(tx_type="camt.054.001.08"))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".00", "camt.054.001.08")


def test_unsuccessful_transaction_exits() -> None:
    result = run(RULE, tx(tx_type=TxType.PACS_002, status="RJCT"))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".x00", None)
