from __future__ import annotations

from typing import Any

import pytest

from activities.monitoring.rules.s03_kiosk_other_school import RULE
from tests.unit.rules.factory import features, run, school, tx


@pytest.mark.parametrize(
    ("kiosk_school", "measured", "expected"),
    [("sch-1", "same", ".01"), ("sch-2", "other", ".02")],
)
def test_cases_by_the_kiosks_school(kiosk_school: str, measured: str, expected: str) -> None:
    context = school(student_school_id="sch-1", kiosk_school_id=kiosk_school)
    result = run(RULE, tx(kiosk_id="k-9"), features(school=context))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (expected, measured)


@pytest.mark.parametrize("context", [None, school(kiosk_school_id=None)])
def test_unknown_kiosk_school_is_insufficient_data(context: Any) -> None:
    assert run(RULE, tx(), features(school=context)).sub_rule_ref == ".x01"


def test_unsuccessful_transaction_exits() -> None:
    context = school(kiosk_school_id="sch-2")
    assert run(RULE, tx(status="RJCT"), features(school=context)).sub_rule_ref == ".x00"
