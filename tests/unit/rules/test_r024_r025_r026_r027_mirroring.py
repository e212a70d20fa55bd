"""Rules 024/025 (non-commissioned) and 026/027 (commissioned) transaction mirroring, on the
creditor's history (024/026) or the debtor's, this payment included (025/027).

Every test runs with `forwarded`, the amount that mirrors 1000 received: 1000 unchanged for
024/025, 900 (10% kept) for 026/027. For a creditor rule a forward is a transfer in the
creditor's history; for a debtor rule the forward is this payment, so the scenario is shifted
in time to end now.
"""

from __future__ import annotations

from typing import Any

import pytest

from activities.monitoring.rules.base import Rule
from activities.monitoring.rules.r024_noncommissioned_mirroring_creditor import RULE as R024
from activities.monitoring.rules.r025_noncommissioned_mirroring_debtor import RULE as R025
from activities.monitoring.rules.r026_commissioned_mirroring_creditor import RULE as R026
from activities.monitoring.rules.r027_commissioned_mirroring_debtor import RULE as R027
from core.monitoring.config import RuleConfig
from core.monitoring.results import RuleResult
from core.monitoring.transactions import MS_PER_DAY, Edge
from tests.unit.rules.factory import HOUR, NOW, edge, run, tx, with_parameters
from tests.unit.rules.sides import CREDITOR, DEBTOR, Side, twins

ARGS = ("rule", "side", "forwarded")
NON_COMMISSIONED = twins(R025, R024, debtor=(1000,), creditor=(1000,))
COMMISSIONED = twins(R027, R026, debtor=(900,), creditor=(900,))
ALL = [*NON_COMMISSIONED, *COMMISSIONED]
CREDITORS = [p for p in ALL if p.values[1] == CREDITOR]
DEBTORS = [p for p in ALL if p.values[1] == DEBTOR]
COMMISSIONED_CODES = {R026.code, R027.code}


def received(ago_ms: int, amount: float = 1000, sender: str = "acc-payer", **kw: Any) -> Edge:
    return edge(at_ms=NOW - ago_ms, amount=amount, counterparty=sender, **kw)


def sent(ago_ms: int, amount: float, to: str = "acc-next", **kw: Any) -> Edge:
    return edge(at_ms=NOW - ago_ms, amount=amount, counterparty=to, **kw)


def measured(
    rule: Rule,
    side: Side,
    incoming: list[Edge],
    outgoing: list[Edge] | None = None,
    amount: float = 1000,
    config: RuleConfig | None = None,
    **tx_fields: Any,
) -> RuleResult:
    feats = side.features(incoming=incoming, outgoing=outgoing or [])
    return run(rule, tx(amount=amount, **tx_fields), feats, config)


def pairs(count: int, forwarded: float) -> tuple[list[Edge], list[Edge]]:
    """`count` amounts of 1000 received and forwarded as `forwarded` an hour later."""
    incoming = [received((2 * i + 2) * HOUR, sender=f"acc-in-{i}") for i in range(count)]
    outgoing = [sent((2 * i + 1) * HOUR, forwarded, to=f"acc-out-{i}") for i in range(count)]
    return incoming, outgoing


def completing(
    rule: Rule, side: Side, forwarded: float, count: int, **tx_fields: Any
) -> RuleResult:
    """`count` mirrored pairs. A creditor's are all in its history (this payment is 1000); for
    a debtor, this payment (`forwarded` to acc-creditor) completes the last one: it forwards
    1000 received 30 minutes ago, after count-1 earlier forwarded amounts."""
    if side == CREDITOR:
        return measured(rule, side, *pairs(count, forwarded), **tx_fields)
    if count == 0:
        return measured(rule, side, [], [], amount=forwarded, **tx_fields)
    incoming, outgoing = pairs(count - 1, forwarded)
    incoming = [received(HOUR // 2), *incoming]
    return measured(rule, side, incoming, outgoing, amount=forwarded, **tx_fields)


def payee(side: Side) -> str:
    """Where a forward goes: acc-next in a creditor's history, acc-creditor for this payment."""
    return "acc-next" if side == CREDITOR else "acc-creditor"


def forwarding(
    rule: Rule,
    side: Side,
    amount: float,
    *,
    received_ago: int = 5 * HOUR,
    sent_ago: int = 4 * HOUR,
    sender: str = "acc-payer",
    config: RuleConfig | None = None,
    **received_fields: Any,
) -> RuleResult:
    """1000 received `received_ago`, then forwarded as `amount` `sent_ago`: by a transfer in
    the creditor's history or, for a debtor, by this payment (both shifted to end now)."""
    if side == CREDITOR:
        incoming = [received(received_ago, sender=sender, **received_fields)]
        return measured(rule, side, incoming, [sent(sent_ago, amount)], config=config)
    incoming = [received(received_ago - sent_ago, sender=sender, **received_fields)]
    return measured(rule, side, incoming, amount=amount, config=config)


@pytest.mark.parametrize(ARGS, ALL)
@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, ".01"), (1, ".02"), (2, ".03"), (4, ".03"), (5, ".04"), (12, ".04")],
)
def test_bands_by_number_of_mirrored_pairs(
    rule: Rule, side: Side, forwarded: float, count: int, expected: str
) -> None:
    result = completing(rule, side, forwarded, count)
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == count


@pytest.mark.parametrize(ARGS, ALL)
@pytest.mark.parametrize(
    # does forwarding 1000 received as `amount` mirror it: unchanged (024/025), less a
    # commission (026/027)?
    ("amount", "unchanged", "less_commission"),
    [
        (1000, True, False),  # forwarded unchanged: no commission
        (1005, True, False),  # within half a percent (amountTolerance inclusive)
        (1005.01, False, False),
        (995, True, False),  # 0.5% kept: unchanged enough, too little for a commission
        (994.99, False, False),
        (990.01, False, False),  # just under 1% kept
        (990, False, True),  # 1% kept: minimumCommission inclusive
        (900, False, True),
        (750, False, True),  # 25% kept: maximumCommission inclusive
        (749.99, False, False),  # just over 25% kept
        (500, False, False),
        (1010, False, False),  # more sent than received
    ],
)
def test_which_amounts_mirror(
    rule: Rule,
    side: Side,
    forwarded: float,
    amount: float,
    unchanged: bool,
    less_commission: bool,
) -> None:
    mirrors = less_commission if rule.code in COMMISSIONED_CODES else unchanged
    assert forwarding(rule, side, amount).indpdnt_varbl == (1 if mirrors else 0)


@pytest.mark.parametrize(ARGS, COMMISSIONED)
@pytest.mark.parametrize(
    ("low", "high", "mirrored", "not_mirrored"), [(0.0, 0.05, 1000, 900), (0.3, 0.5, 600, 900)]
)
def test_the_commission_range_is_configurable(
    rule: Rule,
    side: Side,
    forwarded: float,
    low: float,
    high: float,
    mirrored: float,
    not_mirrored: float,
) -> None:
    config = with_parameters(rule, minimumCommission=low, maximumCommission=high)
    assert forwarding(rule, side, mirrored, config=config).indpdnt_varbl == 1
    assert forwarding(rule, side, not_mirrored, config=config).indpdnt_varbl == 0


@pytest.mark.parametrize(ARGS, ALL)
@pytest.mark.parametrize(
    ("delay", "mirrors"),
    [
        (MS_PER_DAY, True),  # forwarded exactly 1 day later
        (MS_PER_DAY + 1, False),  # 1 ms too late
        (0, True),  # forwarded at the same moment
        (-1, False),  # sent before it was received
    ],
)
def test_forwarding_must_follow_within_the_mirror_delay(
    rule: Rule, side: Side, forwarded: float, delay: int, mirrors: bool
) -> None:
    result = forwarding(rule, side, forwarded, received_ago=HOUR + delay, sent_ago=HOUR)
    assert result.indpdnt_varbl == (1 if mirrors else 0)


@pytest.mark.parametrize(ARGS, ALL)
def test_returning_money_to_its_sender_is_not_mirroring(
    rule: Rule, side: Side, forwarded: float
) -> None:
    assert forwarding(rule, side, forwarded, sender=payee(side)).indpdnt_varbl == 0


@pytest.mark.parametrize(ARGS, CREDITORS)
def test_each_transfer_is_paired_once(rule: Rule, side: Side, forwarded: float) -> None:
    one_in = measured(
        rule,
        side,
        [received(5 * HOUR)],
        [sent(4 * HOUR, forwarded, to="acc-x"), sent(HOUR, forwarded, to="acc-y")],
    )
    assert one_in.indpdnt_varbl == 1
    one_out = measured(
        rule, side, [received(5 * HOUR), received(4 * HOUR)], [sent(HOUR, forwarded)]
    )
    assert one_out.indpdnt_varbl == 1


@pytest.mark.parametrize(ARGS, DEBTORS)
def test_each_received_amount_is_forwarded_once(rule: Rule, side: Side, forwarded: float) -> None:
    # 1000 received once, forwarded an hour later: this second forward mirrors nothing
    result = measured(
        rule, side, [received(3 * HOUR)], [sent(2 * HOUR, forwarded)], amount=forwarded
    )
    assert result.indpdnt_varbl == 1


@pytest.mark.parametrize(ARGS, CREDITORS)
def test_the_current_payment_is_not_counted(rule: Rule, side: Side, forwarded: float) -> None:
    # the creditor received 1000 before and receives 1000 now, but forwarded nothing
    assert measured(rule, side, [received(HOUR)], []).indpdnt_varbl == 0


@pytest.mark.parametrize(ARGS, DEBTORS)
def test_earlier_mirroring_counts_without_this_payment(
    rule: Rule, side: Side, forwarded: float
) -> None:
    incoming, outgoing = [received(5 * HOUR)], [sent(4 * HOUR, forwarded)]
    assert measured(rule, side, incoming, outgoing, amount=50).indpdnt_varbl == 1


@pytest.mark.parametrize(ARGS, ALL)
def test_history_outside_the_query_range_does_not_count(
    rule: Rule, side: Side, forwarded: float
) -> None:
    week = 7 * MS_PER_DAY
    # received before the range; this payment (50) mirrors nothing
    history = ([received(week + HOUR)], [sent(week - HOUR, forwarded)])
    assert measured(rule, side, *history, amount=50).indpdnt_varbl == 0
    wider = with_parameters(rule, maxQueryRange=8 * MS_PER_DAY)
    assert measured(rule, side, *history, amount=50, config=wider).indpdnt_varbl == 1


@pytest.mark.parametrize(ARGS, ALL)
def test_failed_incoming_transfers_do_not_count(rule: Rule, side: Side, forwarded: float) -> None:
    assert forwarding(rule, side, forwarded, status="RJCT").indpdnt_varbl == 0


@pytest.mark.parametrize(ARGS, CREDITORS)
def test_failed_outgoing_transfers_do_not_count(rule: Rule, side: Side, forwarded: float) -> None:
    history = ([received(5 * HOUR)], [sent(4 * HOUR, forwarded, status="RJCT")])
    assert measured(rule, side, *history).indpdnt_varbl == 0


@pytest.mark.parametrize(ARGS, CREDITORS)
def test_debtor_history_is_not_read(rule: Rule, side: Side, forwarded: float) -> None:
    incoming, outgoing = pairs(3, forwarded)
    result = run(rule, tx(), side.other.features(incoming=incoming, outgoing=outgoing))
    assert result.indpdnt_varbl == 0


@pytest.mark.parametrize(ARGS, DEBTORS)
def test_creditor_history_is_not_read(rule: Rule, side: Side, forwarded: float) -> None:
    feats = side.other.features(incoming=[received(HOUR)])
    assert run(rule, tx(amount=forwarded), feats).indpdnt_varbl == 0


@pytest.mark.parametrize(ARGS, ALL)
def test_unsuccessful_transaction_exits(rule: Rule, side: Side, forwarded: float) -> None:
    result = completing(rule, side, forwarded, 5, status="RJCT")
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".x00", None)
