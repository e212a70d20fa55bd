from __future__ import annotations

import pytest

from activities.monitoring.rules.r018_large_outgoing_transfer_debtor import RULE
from tests.unit.rules.factory import edge, features, run, tx, with_parameters

HISTORY = [edge(1, 100), edge(2, 200), edge(3, 50)]  # largest: 200


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (100, ".01"),
        (299.99, ".01"),
        (300, ".02"),  # 1.5x, lower limit inclusive
        (599.99, ".02"),
        (600, ".03"),  # 3x
        (10_000, ".03"),
    ],
)
def test_bands_by_ratio_to_largest_earlier_transfer(amount: float, expected: str) -> None:
    result = run(RULE, tx(amount=amount), features(debtor_outgoing=HISTORY))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == pytest.approx(amount / 200)


def test_too_little_history_exits() -> None:
    result = run(RULE, tx(amount=5000), features(debtor_outgoing=HISTORY[:2]))
    assert result.sub_rule_ref == ".x01"


def test_history_outside_the_query_range_and_failed_transfers_do_not_count() -> None:
    history = [edge(1, 100), edge(2, 100, status="RJCT"), edge(100, 100), edge(3, 100)]
    result = run(RULE, tx(amount=400), features(debtor_outgoing=history))
    assert result.sub_rule_ref == ".x01"  # only 2 qualifying transfers
    config = with_parameters(RULE, minimumNumberOfTransactions=2)
    result = run(RULE, tx(amount=400), features(debtor_outgoing=history), config)
    assert result.sub_rule_ref == ".03"


def test_unsuccessful_transaction_exits() -> None:
    assert run(RULE, tx(status="RJCT"), features(debtor_outgoing=HISTORY)).sub_rule_ref == ".x00"


def test_a_missing_parameter_is_an_error_not_a_crash() -> None:
    body = RULE.default_config.config.model_copy(update={"parameters": {}})
    config = RULE.default_config.model_copy(update={"config": body})
    result = run(RULE, tx(), features(debtor_outgoing=HISTORY), config)
    assert result.sub_rule_ref == ".err"
    assert "maxQueryRange" in result.reason
