from __future__ import annotations

import pytest

from activities.monitoring.rules.r091_regulatory_threshold import RULE
from tests.unit.rules.factory import run, tx, with_parameters


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (1_000_000, ".01"),
        (399_999_999.99, ".01"),
        (400_000_000, ".02"),  # 80%, lower limit inclusive
        (474_999_999.99, ".02"),
        (475_000_000, ".03"),  # 95%
        (499_999_999.99, ".03"),
        (500_000_000, ".04"),  # the IDR 500 million threshold itself
        (2_000_000_000, ".04"),
    ],
)
def test_bands_by_share_of_the_idr_threshold(amount: float, expected: str) -> None:
    result = run(RULE, tx(amount=amount, currency="IDR"))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == pytest.approx(amount / 500_000_000)


def test_the_threshold_is_a_parameter() -> None:
    config = with_parameters(RULE, threshold=100_000_000)
    result = run(RULE, tx(amount=100_000_000), config=config)
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".04", 1.0)


def test_another_currency_cannot_be_compared() -> None:
    result = run(RULE, tx(amount=900_000_000, currency="USD"))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".x01", None)
    config = with_parameters(RULE, currency="USD", threshold=10_000)
    assert run(RULE, tx(amount=10_000, currency="USD"), config=config).sub_rule_ref == ".04"


def test_a_missing_threshold_is_an_error_not_a_crash() -> None:
    body = RULE.default_config.config.model_copy(update={"parameters": {}})
    config = RULE.default_config.model_copy(update={"config": body})
    result = run(RULE, tx(), config=config)
    assert result.sub_rule_ref == ".err"
    assert "threshold" in result.reason


def test_unsuccessful_transaction_exits() -> None:
    assert run(RULE, tx(amount=600_000_000, status="RJCT")).sub_rule_ref == ".x00"
