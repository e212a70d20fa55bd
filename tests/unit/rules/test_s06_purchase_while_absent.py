from __future__ import annotations

import pytest

from activities.monitoring.rules.s06_purchase_while_absent import RULE
from tests.unit.rules.factory import features, run, school, tx


@pytest.mark.parametrize(
    ("absent", "measured", "expected"), [(False, "present", ".01"), (True, "absent", ".02")]
)
def test_cases_by_attendance(absent: bool, measured: str, expected: str) -> None:
    result = run(RULE, tx(), features(school=school(absent_today=absent)))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (expected, measured)


def test_no_school_context_is_insufficient_data() -> None:
    assert run(RULE, tx(), features()).sub_rule_ref == ".x01"


def test_unsuccessful_transaction_exits() -> None:
    feats = features(school=school(absent_today=True))
    assert run(RULE, tx(status="RJCT"), feats).sub_rule_ref == ".x00"
