from __future__ import annotations

from typing import Any

import pytest

from activities.monitoring.rules.s02_outside_canteen_hours import RULE
from tests.unit.rules.factory import features, run, school, tx

OPENS, CLOSES = 7 * 60, 14 * 60  # canteen open 07:00-14:00 local


def at(minute: int, opens: int | None = OPENS, closes: int | None = CLOSES) -> Any:
    context = school(
        canteen_opens_minute=opens, canteen_closes_minute=closes, local_minute_of_day=minute
    )
    return features(school=context)


@pytest.mark.parametrize(
    ("minute", "outside", "expected"),
    [
        (OPENS, 0, ".01"),  # opening minute is inside
        (CLOSES - 1, 0, ".01"),
        (OPENS - 1, 1, ".02"),  # the minute before opening
        (CLOSES, 1, ".02"),  # closing minute is outside (upper exclusive)
        (OPENS - 29, 29, ".02"),
        (OPENS - 30, 30, ".03"),
        (CLOSES + 28, 29, ".02"),
        (CLOSES + 29, 30, ".03"),
        (OPENS - 119, 119, ".03"),
        (OPENS - 120, 120, ".04"),
        (CLOSES + 118, 119, ".03"),
        (CLOSES + 119, 120, ".04"),
        (0, 420, ".04"),  # midnight: 7 hours before opening
        (23 * 60, 480, ".04"),  # 23:00: nearer to tomorrow's opening than to closing
    ],
)
def test_bands_by_minutes_outside_canteen_hours(minute: int, outside: int, expected: str) -> None:
    result = run(RULE, tx(), at(minute))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == outside


@pytest.mark.parametrize(
    ("minute", "outside"),
    [(23 * 60 + 59, 0), (60, 0), (120, 1), (18 * 60 - 1, 1), (5 * 60, 181)],
)
def test_a_window_past_midnight(minute: int, outside: int) -> None:
    result = run(RULE, tx(), at(minute, opens=18 * 60, closes=2 * 60))  # boarding: 18:00-02:00
    assert result.indpdnt_varbl == outside


@pytest.mark.parametrize(("minute", "outside"), [(OPENS, 1), (OPENS - 1, 1), (10 * 60, 181)])
def test_an_empty_window_means_closed_all_day(minute: int, outside: int) -> None:
    result = run(RULE, tx(), at(minute, opens=OPENS, closes=OPENS))
    assert result.indpdnt_varbl == outside
    assert result.sub_rule_ref != ".01"


@pytest.mark.parametrize(
    "feats",
    [features(), at(600, opens=None), at(600, closes=None), features(school=school())],
)
def test_unknown_hours_or_time_is_insufficient_data(feats: Any) -> None:
    assert run(RULE, tx(), feats).sub_rule_ref == ".x01"


def test_unsuccessful_transaction_exits() -> None:
    assert run(RULE, tx(status="RJCT"), at(23 * 60)).sub_rule_ref == ".x00"
