from __future__ import annotations

from typing import Any

import pytest

from activities.rules.r027_commissioned_mirroring_debtor import RULE
from saku.domain.transactions import MS_PER_DAY, Edge
from saku.monitoring.config import RuleConfig
from saku.monitoring.results import RuleResult
from tests.unit.rules.factory import HOUR, NOW, edge, features, run, tx, with_parameters


def received(ago_ms: int, amount: float = 1000, sender: str = "acc-payer", **kw: Any) -> Edge:
    return edge(at_ms=NOW - ago_ms, amount=amount, counterparty=sender, **kw)


def sent(ago_ms: int, amount: float = 900, to: str = "acc-next") -> Edge:
    return edge(at_ms=NOW - ago_ms, amount=amount, counterparty=to)


def mirrored(count: int) -> tuple[list[Edge], list[Edge]]:
    """Debtor history in which this payment (900 to acc-creditor) completes `count` pairs: it
    forwards 1000 received 30 minutes ago less 10%, after count-1 earlier such forwards."""
    if count == 0:
        return [], []
    incoming = [received(HOUR // 2)]
    incoming += [received((2 * i + 2) * HOUR, sender=f"acc-in-{i}") for i in range(count - 1)]
    outgoing = [sent((2 * i + 1) * HOUR, to=f"acc-out-{i}") for i in range(count - 1)]
    return incoming, outgoing


def measured(
    incoming: list[Edge],
    outgoing: list[Edge] | None = None,
    amount: float = 900,
    config: RuleConfig | None = None,
    **tx_fields: Any,
) -> RuleResult:
    feats = features(debtor_incoming=incoming, debtor_outgoing=outgoing or [])
    return run(RULE, tx(amount=amount, **tx_fields), feats, config)


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, ".01"), (1, ".02"), (2, ".03"), (4, ".03"), (5, ".04"), (12, ".04")],
)
def test_bands_by_number_of_mirrored_pairs(count: int, expected: str) -> None:
    result = measured(*mirrored(count))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == count


@pytest.mark.parametrize(
    ("amount", "mirrors"),
    [
        (1000, False),  # forwarded unchanged: no commission (that is rule 025)
        (990.01, False),  # just under 1% kept
        (990, True),  # 1% kept: minimumCommission inclusive
        (900, True),
        (750, True),  # 25% kept: maximumCommission inclusive
        (749.99, False),  # just over 25% kept
        (1010, False),  # more sent than received
    ],
)
def test_this_payment_keeps_a_commission_of_1_to_25_percent(amount: float, mirrors: bool) -> None:
    result = measured([received(HOUR)], amount=amount)
    assert result.indpdnt_varbl == (1 if mirrors else 0)


def test_the_commission_range_is_configurable() -> None:
    config = with_parameters(RULE, minimumCommission=0.3, maximumCommission=0.5)
    assert measured([received(HOUR)], amount=600, config=config).indpdnt_varbl == 1
    assert measured([received(HOUR)], amount=900, config=config).indpdnt_varbl == 0


@pytest.mark.parametrize(
    ("received_ago", "mirrors"),
    [(MS_PER_DAY, True), (MS_PER_DAY + 1, False), (0, True), (-1, False)],
)
def test_this_payment_must_follow_within_the_mirror_delay(received_ago: int, mirrors: bool) -> None:
    result = measured([received(received_ago)])
    assert result.indpdnt_varbl == (1 if mirrors else 0)


def test_paying_back_the_sender_is_not_mirroring() -> None:
    result = measured([received(HOUR, sender="acc-creditor")])
    assert result.indpdnt_varbl == 0


def test_earlier_mirroring_counts_without_this_payment() -> None:
    incoming, outgoing = [received(5 * HOUR)], [sent(4 * HOUR)]
    assert measured(incoming, outgoing, amount=50).indpdnt_varbl == 1


def test_each_received_amount_is_forwarded_once() -> None:
    # 1000 received once, forwarded less 10% an hour later: this second 900 mirrors nothing
    result = measured([received(3 * HOUR)], [sent(2 * HOUR)])
    assert result.indpdnt_varbl == 1


def test_history_outside_the_query_range_and_failed_transfers_do_not_count() -> None:
    week = 7 * MS_PER_DAY
    history = ([received(week + HOUR)], [sent(week - HOUR)])  # received before the range
    assert measured(*history, amount=50).indpdnt_varbl == 0
    wider = with_parameters(RULE, maxQueryRange=8 * MS_PER_DAY)
    assert measured(*history, amount=50, config=wider).indpdnt_varbl == 1
    assert measured([received(HOUR, status="RJCT")]).indpdnt_varbl == 0


def test_creditor_history_is_not_read() -> None:
    feats = features(creditor_incoming=[received(HOUR)])
    assert run(RULE, tx(amount=900), feats).indpdnt_varbl == 0


def test_unsuccessful_transaction_exits() -> None:
    result = measured(*mirrored(5), status="RJCT")
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".x00", None)
