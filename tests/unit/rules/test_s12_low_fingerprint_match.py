from __future__ import annotations

import pytest

from activities.monitoring.rules.s12_low_fingerprint_match import RULE
from tests.unit.rules.factory import features, run, tx


@pytest.mark.parametrize(
    ("score", "expected"),
    [(52, ".01"), (59, ".01"), (60, ".02"), (69, ".02"), (70, ".03"), (83, ".03")],
)
def test_bands_by_match_score(score: int, expected: str) -> None:
    result = run(RULE, tx(auth_method="fingerprint", match_score=score), features())
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == score


@pytest.mark.parametrize(
    ("method", "score"), [("pin", 40), ("qr", None), (None, 75), ("fingerprint", None)]
)
def test_no_fingerprint_score_is_insufficient_data(method: str | None, score: int | None) -> None:
    result = run(RULE, tx(auth_method=method, match_score=score), features())
    assert result.sub_rule_ref == ".x01"
    assert result.indpdnt_varbl is None


def test_unsuccessful_transaction_exits() -> None:
    transaction = tx(auth_method="fingerprint", match_score=53, status="RJCT")
    assert run(RULE, transaction, features()).sub_rule_ref == ".x00"
