from __future__ import annotations

import pytest

from activities.monitoring.rules.r076_time_since_last_transaction_debtor import RULE
from core.monitoring.transactions import MS_PER_DAY, Edge
from tests.unit.rules.factory import HOUR, NOW, edge, features, run, tx

MINUTE = 60_000


@pytest.mark.parametrize(
    ("elapsed_ms", "expected"),
    [
        (0, ".01"),
        (MINUTE - 1, ".01"),
        (MINUTE, ".02"),  # lower limit inclusive
        (HOUR - 1, ".02"),
        (HOUR, ".03"),
        (MS_PER_DAY - 1, ".03"),
        (MS_PER_DAY, ".04"),
        (400 * MS_PER_DAY, ".04"),  # no query range: old history still counts
    ],
)
def test_bands_by_ms_since_last_payment(elapsed_ms: int, expected: str) -> None:
    history = [edge(at_ms=NOW - elapsed_ms), edge(at_ms=NOW - elapsed_ms - HOUR)]
    result = run(RULE, feats=features(debtor_outgoing=history))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == elapsed_ms


def test_failed_future_and_incoming_transactions_are_ignored() -> None:
    history = [edge(at_ms=NOW - 2 * HOUR), edge(at_ms=NOW - 10, status="RJCT"), edge(at_ms=NOW + 1)]
    result = run(
        RULE, feats=features(debtor_outgoing=history, debtor_incoming=[edge(at_ms=NOW - 5)])
    )
    assert result.indpdnt_varbl == 2 * HOUR


@pytest.mark.parametrize(
    "history", [[], [edge(at_ms=NOW - HOUR, status="RJCT")], [edge(at_ms=NOW + HOUR)]]
)
def test_no_earlier_successful_payment_exits(history: list[Edge]) -> None:
    result = run(RULE, feats=features(debtor_outgoing=history))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".x01", None)


def test_unsuccessful_transaction_exits() -> None:
    result = run(RULE, tx(status="RJCT"), features(debtor_outgoing=[edge(at_ms=NOW - 1)]))
    assert result.sub_rule_ref == ".x00"
