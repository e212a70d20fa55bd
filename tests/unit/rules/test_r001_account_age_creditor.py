from __future__ import annotations

import pytest

from activities.monitoring.rules.r001_account_age_creditor import RULE
from core.monitoring.transactions import MS_PER_DAY
from tests.unit.rules.factory import NOW, features, run, tx


@pytest.mark.parametrize(
    ("age_ms", "expected"),
    [
        (0, ".01"),
        (MS_PER_DAY - 1, ".01"),
        (MS_PER_DAY, ".02"),  # lower limit inclusive
        (30 * MS_PER_DAY - 1, ".02"),
        (30 * MS_PER_DAY, ".03"),
        (365 * MS_PER_DAY - 1, ".03"),
        (365 * MS_PER_DAY, ".04"),
        (10 * 365 * MS_PER_DAY, ".04"),
    ],
)
def test_bands_by_creditor_account_age(age_ms: int, expected: str) -> None:
    result = run(RULE, feats=features(creditor_first_seen_ms=NOW - age_ms))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == age_ms


def test_an_account_never_seen_before_is_new() -> None:
    result = run(RULE, feats=features(creditor_first_seen_ms=None))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".01", 0)


def test_unsuccessful_transaction_exits() -> None:
    result = run(RULE, tx(status="RJCT"), features(creditor_first_seen_ms=NOW))
    assert result.sub_rule_ref == ".x00"
    assert result.indpdnt_varbl is None
