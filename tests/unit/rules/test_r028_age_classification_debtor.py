from __future__ import annotations

from datetime import UTC, datetime

import pytest

from activities.monitoring.rules.r028_age_classification_debtor import RULE
from tests.unit.rules.factory import NOW, features, run, tx


def at(iso: str) -> int:
    return int(datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp() * 1000)


def test_the_fixed_clock_is_23_november_2025() -> None:
    assert at("2025-11-23T00:00:00") == NOW  # the birth dates below are relative to it


@pytest.mark.parametrize(
    ("birth_date", "age", "expected"),
    [
        ("2025-11-23", 0, ".01"),  # born today
        ("2012-11-24", 12, ".01"),  # turns 13 tomorrow
        ("2012-11-23", 13, ".02"),  # 13 today: lower limit inclusive
        ("2007-11-24", 17, ".02"),
        ("2007-11-23", 18, ".03"),
        ("2000-11-24", 24, ".03"),
        ("2000-11-23", 25, ".04"),
        ("1960-11-24", 64, ".04"),
        ("1960-11-23", 65, ".05"),
        ("1925-01-01", 100, ".05"),
    ],
)
def test_bands_by_age_in_completed_years(birth_date: str, age: int, expected: str) -> None:
    result = run(RULE, feats=features(debtor_birth_date=birth_date))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (expected, age)


@pytest.mark.parametrize("birth_date", [None, ""])
def test_unknown_birth_date_exits(birth_date: str | None) -> None:
    result = run(RULE, feats=features(debtor_birth_date=birth_date))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".x01", None)


def test_a_date_time_is_accepted() -> None:
    result = run(RULE, feats=features(debtor_birth_date="2012-11-23T08:30:00+00:00"))
    assert result.indpdnt_varbl == 13


def test_the_transaction_date_is_taken_in_utc() -> None:
    last_moment_before = tx(created_at_ms=NOW - 1)  # 22 November, 23:59:59.999 UTC
    result = run(RULE, last_moment_before, features(debtor_birth_date="2012-11-23"))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".01", 12)


@pytest.mark.parametrize(("on", "age"), [("2025-02-28T12:00:00", 16), ("2025-03-01T00:00:00", 17)])
def test_a_leap_day_birthday_counts_from_1_march(on: str, age: int) -> None:
    result = run(RULE, tx(created_at_ms=at(on)), features(debtor_birth_date="2008-02-29"))
    assert result.indpdnt_varbl == age


@pytest.mark.parametrize(
    ("birth_date", "message"),
    [("23/11/2012", "Invalid isoformat"), ("2025-11-24", "after the transaction date")],
)
def test_a_malformed_or_future_birth_date_is_an_error(birth_date: str, message: str) -> None:
    result = run(RULE, feats=features(debtor_birth_date=birth_date))
    assert result.sub_rule_ref == ".err"
    assert message in result.reason


def test_unsuccessful_transaction_exits() -> None:
    result = run(RULE, tx(status="RJCT"), features(debtor_birth_date="2012-11-23"))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".x00", None)
