from __future__ import annotations

from typing import Any

import pytest

from activities.monitoring.rules.s01_guardian_limit_breached import RULE
from core.monitoring.transactions import TxType
from tests.unit.rules.factory import features, run, school, tx


def purchase(amount: float, **overrides: Any) -> Any:
    return tx(tx_type=TxType.KIOSK_PURCHASE, amount=amount, kiosk_id="k-1", **overrides)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [  # daily limit IDR 50,000 with IDR 20,000 already spent today
        (19_999, ".01"),  # total 39,999: just below 0.8
        (20_000, ".02"),  # total 40,000 = 0.8, lower limit inclusive
        (29_999, ".02"),
        (30_000, ".03"),  # total 50,000: exactly the limit
        (54_999, ".03"),
        (55_000, ".04"),  # total 75,000 = 1.5x
        (200_000, ".04"),
    ],
)
def test_bands_by_share_of_the_daily_limit(amount: float, expected: str) -> None:
    context = school(daily_limit=50_000, spent_today=20_000)
    result = run(RULE, purchase(amount), features(school=context))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == pytest.approx((20_000 + amount) / 50_000)


@pytest.mark.parametrize(
    ("context", "ratio", "expected"),
    [
        # weekly is the stricter: 190k + 5k of 200k, while the day is only at 15k of 50k
        (
            school(
                daily_limit=50_000,
                spent_today=10_000,
                weekly_limit=200_000,
                spent_this_week=190_000,
            ),
            0.975,
            ".02",
        ),
        # daily is the stricter: 48k + 5k of 50k, while the week is only at 55k of 200k
        (
            school(
                daily_limit=50_000, spent_today=48_000, weekly_limit=200_000, spent_this_week=50_000
            ),
            1.06,
            ".03",
        ),
        (school(weekly_limit=100_000, spent_this_week=10_000), 0.15, ".01"),  # weekly only
    ],
)
def test_the_stricter_of_daily_and_weekly_limits_counts(
    context: Any, ratio: float, expected: str
) -> None:
    result = run(RULE, purchase(5_000), features(school=context))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == pytest.approx(ratio)


def test_a_zero_limit_blocks_spending_and_any_purchase_is_in_the_top_band() -> None:
    result = run(RULE, purchase(3_000), features(school=school(daily_limit=0)))
    assert result.sub_rule_ref == ".04"
    assert result.indpdnt_varbl == pytest.approx(3_000)  # treated as a 1 IDR limit


@pytest.mark.parametrize("context", [None, school()])
def test_no_school_context_or_no_limit_is_insufficient_data(context: Any) -> None:
    result = run(RULE, purchase(5_000), features(school=context))
    assert result.sub_rule_ref == ".x01"
    assert result.indpdnt_varbl is None


def test_unsuccessful_transaction_exits() -> None:
    context = school(daily_limit=50_000, spent_today=49_000)
    result = run(RULE, purchase(5_000, status="RJCT"), features(school=context))
    assert result.sub_rule_ref == ".x00"
