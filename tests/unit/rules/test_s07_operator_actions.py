from __future__ import annotations

import pytest

from activities.monitoring.rules.s07_operator_actions import RULE
from tests.unit.rules.factory import features, run, school, tx


@pytest.mark.parametrize(
    ("actions", "expected"),
    [(0, ".01"), (2, ".01"), (3, ".02"), (7, ".02"), (8, ".03"), (14, ".03"), (15, ".04")],
)
def test_bands_by_the_operators_actions_today(actions: int, expected: str) -> None:
    feats = features(school=school(operator_actions_today=actions))
    result = run(RULE, tx(operator_id="op-7", auth_method="override"), feats)
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == actions


def test_a_transaction_without_an_operator_measures_zero() -> None:
    feats = features(school=school(operator_actions_today=40))
    result = run(RULE, tx(operator_id=None), feats)
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".01", 0)


def test_an_operator_without_school_context_is_insufficient_data() -> None:
    assert run(RULE, tx(operator_id="op-7"), features()).sub_rule_ref == ".x01"


def test_unsuccessful_transaction_exits() -> None:
    feats = features(school=school(operator_actions_today=40))
    assert run(RULE, tx(operator_id="op-7", status="RJCT"), feats).sub_rule_ref == ".x00"
