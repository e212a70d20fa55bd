from __future__ import annotations

import pytest

from activities.monitoring.rules.s05_fingerprint_fallback import RULE
from tests.unit.rules.factory import features, run, school, tx


@pytest.mark.parametrize("method", ["pin", "qr"])
@pytest.mark.parametrize(
    ("failures", "expected"),
    [(0, ".01"), (1, ".02"), (2, ".02"), (3, ".03"), (4, ".03"), (5, ".04"), (12, ".04")],
)
def test_bands_by_fingerprint_failures_before_fallback(
    method: str, failures: int, expected: str
) -> None:
    feats = features(school=school(recent_fingerprint_failures=failures))
    result = run(RULE, tx(auth_method=method), feats)
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == failures


@pytest.mark.parametrize("method", ["fingerprint", "override", None])
def test_other_authorisations_measure_zero(method: str | None) -> None:
    feats = features(school=school(recent_fingerprint_failures=7))
    result = run(RULE, tx(auth_method=method), feats)
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".01", 0)


def test_fallback_without_school_context_is_insufficient_data() -> None:
    assert run(RULE, tx(auth_method="pin"), features()).sub_rule_ref == ".x01"


def test_unsuccessful_transaction_exits() -> None:
    feats = features(school=school(recent_fingerprint_failures=7))
    assert run(RULE, tx(auth_method="pin", status="RJCT"), feats).sub_rule_ref == ".x00"
