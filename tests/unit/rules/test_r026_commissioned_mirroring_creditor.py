from __future__ import annotations

from typing import Any

import pytest

from activities.rules.r026_commissioned_mirroring_creditor import RULE
from saku.domain.transactions import MS_PER_DAY, Edge
from saku.monitoring.config import RuleConfig
from saku.monitoring.results import RuleResult
from tests.unit.rules.factory import HOUR, NOW, edge, features, run, tx, with_parameters


def received(ago_ms: int, amount: float = 1000, sender: str = "acc-payer", **kw: Any) -> Edge:
    return edge(at_ms=NOW - ago_ms, amount=amount, counterparty=sender, **kw)


def sent(ago_ms: int, amount: float = 900, to: str = "acc-next") -> Edge:
    return edge(at_ms=NOW - ago_ms, amount=amount, counterparty=to)


def pairs(count: int) -> tuple[list[Edge], list[Edge]]:
    """`count` amounts of 1000 received by the creditor and forwarded less 10% an hour later."""
    incoming = [received((2 * i + 2) * HOUR, sender=f"acc-in-{i}") for i in range(count)]
    outgoing = [sent((2 * i + 1) * HOUR, to=f"acc-out-{i}") for i in range(count)]
    return incoming, outgoing


def measured(
    incoming: list[Edge], outgoing: list[Edge], config: RuleConfig | None = None
) -> RuleResult:
    feats = features(creditor_incoming=incoming, creditor_outgoing=outgoing)
    return run(RULE, tx(amount=1000), feats, config)


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, ".01"), (1, ".02"), (2, ".03"), (4, ".03"), (5, ".04"), (12, ".04")],
)
def test_bands_by_number_of_mirrored_pairs(count: int, expected: str) -> None:
    result = measured(*pairs(count))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == count


@pytest.mark.parametrize(
    ("forwarded", "mirrors"),
    [
        (1000, False),  # forwarded unchanged: no commission (that is rule 024)
        (990.01, False),  # just under 1% kept
        (990, True),  # 1% kept: minimumCommission inclusive
        (900, True),
        (750, True),  # 25% kept: maximumCommission inclusive
        (749.99, False),  # just over 25% kept
        (1010, False),  # more sent than received
    ],
)
def test_commission_of_one_to_twenty_five_percent(forwarded: float, mirrors: bool) -> None:
    result = measured([received(5 * HOUR)], [sent(4 * HOUR, forwarded)])
    assert result.indpdnt_varbl == (1 if mirrors else 0)


def test_the_commission_range_is_configurable() -> None:
    config = with_parameters(RULE, minimumCommission=0.0, maximumCommission=0.05)
    assert measured([received(5 * HOUR)], [sent(4 * HOUR, 1000)], config).indpdnt_varbl == 1
    assert measured([received(5 * HOUR)], [sent(4 * HOUR, 900)], config).indpdnt_varbl == 0


@pytest.mark.parametrize(
    ("received_ago", "mirrors"),
    [
        (HOUR + MS_PER_DAY, True),  # forwarded exactly 1 day later
        (HOUR + MS_PER_DAY + 1, False),  # 1 ms too late
        (HOUR - 1, False),  # sent before it was received
    ],
)
def test_forwarding_must_follow_within_the_mirror_delay(received_ago: int, mirrors: bool) -> None:
    result = measured([received(received_ago)], [sent(HOUR)])
    assert result.indpdnt_varbl == (1 if mirrors else 0)


def test_returning_money_to_its_sender_is_not_mirroring() -> None:
    result = measured([received(5 * HOUR, sender="acc-a")], [sent(4 * HOUR, to="acc-a")])
    assert result.indpdnt_varbl == 0


def test_the_current_payment_is_not_counted() -> None:
    assert measured([received(HOUR)], []).indpdnt_varbl == 0


def test_history_outside_the_query_range_and_failed_transfers_do_not_count() -> None:
    week = 7 * MS_PER_DAY
    history = ([received(week + HOUR)], [sent(week - HOUR)])  # received before the range
    assert measured(*history).indpdnt_varbl == 0
    wider = with_parameters(RULE, maxQueryRange=8 * MS_PER_DAY)
    assert measured(*history, wider).indpdnt_varbl == 1
    failed = measured([received(5 * HOUR, status="RJCT")], [sent(4 * HOUR)])
    assert failed.indpdnt_varbl == 0


def test_unsuccessful_transaction_exits() -> None:
    incoming, outgoing = pairs(5)
    feats = features(creditor_incoming=incoming, creditor_outgoing=outgoing)
    assert run(RULE, tx(status="RJCT"), feats).sub_rule_ref == ".x00"
