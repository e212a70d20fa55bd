from __future__ import annotations

from typing import Any

import pytest

from activities.monitoring.rules.s04_two_kiosks_too_quickly import RULE
from core.monitoring.transactions import MS_PER_DAY, TxType
from tests.unit.rules.factory import NOW, edge, features, run, tx, with_parameters

MINUTE = 60_000


def purchase(**overrides: Any) -> Any:
    return tx(tx_type=TxType.KIOSK_PURCHASE, kiosk_id="k-1", **overrides)


def bought(ms_ago: int, kiosk: str | None, **overrides: Any) -> Any:
    """An earlier purchase by the student (the debtor) at a kiosk."""
    return edge(at_ms=NOW - ms_ago, amount=5_000, channel=kiosk, **overrides)


@pytest.mark.parametrize(
    ("gap_ms", "expected"),
    [
        (0, ".01"),
        (MINUTE - 1, ".01"),
        (MINUTE, ".02"),
        (5 * MINUTE - 1, ".02"),
        (5 * MINUTE, ".03"),
        (30 * MINUTE - 1, ".03"),
        (30 * MINUTE, ".04"),
        (6 * 60 * MINUTE, ".04"),
    ],
)
def test_bands_by_gap_since_purchase_at_another_kiosk(gap_ms: int, expected: str) -> None:
    result = run(RULE, purchase(), features(debtor_outgoing=[bought(gap_ms, "k-2")]))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == gap_ms


def test_the_latest_purchase_at_a_different_kiosk_counts_not_at_the_same_one() -> None:
    history = [bought(10_000, "k-1"), bought(3 * MINUTE, "k-2"), bought(20 * MINUTE, "k-3")]
    result = run(RULE, purchase(), features(debtor_outgoing=history))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".02", 3 * MINUTE)


def test_failed_purchases_and_edges_without_a_kiosk_are_ignored() -> None:
    history = [
        bought(10_000, "k-2", status="RJCT"),
        bought(20_000, None),  # e.g. a transfer, not a kiosk purchase
        bought(40 * MINUTE, "k-2"),
    ]
    result = run(RULE, purchase(), features(debtor_outgoing=history))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".04", 40 * MINUTE)


@pytest.mark.parametrize(("gap_ms", "expected"), [(MS_PER_DAY, ".04"), (MS_PER_DAY + 1, ".x01")])
def test_purchases_outside_the_query_range_are_ignored(gap_ms: int, expected: str) -> None:
    result = run(RULE, purchase(), features(debtor_outgoing=[bought(gap_ms, "k-2")]))
    assert result.sub_rule_ref == expected


def test_the_query_range_is_configurable() -> None:
    config = with_parameters(RULE, maxQueryRange=2 * MINUTE)
    feats = features(debtor_outgoing=[bought(3 * MINUTE, "k-2")])
    assert run(RULE, purchase(), feats, config).sub_rule_ref == ".x01"


@pytest.mark.parametrize(
    ("transaction", "history"),
    [
        (purchase(), []),
        (purchase(), [bought(MINUTE, "k-1")]),  # only the same kiosk
        (tx(kiosk_id=None), [bought(MINUTE, "k-2")]),  # this transaction has no kiosk
    ],
)
def test_insufficient_history(transaction: Any, history: list[Any]) -> None:
    result = run(RULE, transaction, features(debtor_outgoing=history))
    assert result.sub_rule_ref == ".x01"
    assert result.indpdnt_varbl is None


def test_unsuccessful_transaction_exits() -> None:
    feats = features(debtor_outgoing=[bought(10_000, "k-2")])
    assert run(RULE, purchase(status="RJCT"), feats).sub_rule_ref == ".x00"
