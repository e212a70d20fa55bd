"""Transaction mirroring, the measurement of rules 024-027.

A mirrored pair is an incoming transfer passed on by an outgoing transfer of a matching amount
no later than `maxMirrorDelay` after it, to a different account than the one that sent it
(sending money back to its sender is a refund, not a pass-through). Rules 024/025 match
amounts without a commission, 026/027 with one kept back by the account. The creditor rules
(024/026) examine the account receiving this payment, which cannot have forwarded it yet; the
debtor rules (025/027) examine the paying account, this payment counted as an outgoing transfer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

from activities.monitoring.rules.base import Parameters, param, successful, within
from core.monitoring.transactions import Edge, Features, Transaction

# (received amount, sent amount) -> does the sent amount mirror the received one?
AmountMatch = Callable[[float, float], bool]
# (at_ms, amount, counterparty account)
Movement = tuple[int, float, str]


def mirrored_pairs(
    tx: Transaction,
    features: Features,
    parameters: Parameters,
    *,
    side: Literal["debtor", "creditor"],
    commissioned: bool,
) -> int:
    """Mirrored pairs among the `side` account's successful transfers within `maxQueryRange`
    (for the debtor, this payment included), amounts matched with a commission or without
    one; each transfer is used at most once. Greedy, oldest first: an outgoing transfer takes
    the oldest unused incoming transfer it mirrors (the one closest to leaving the delay
    window)."""
    account = features.debtor if side == "debtor" else features.creditor
    incoming, outgoing, now_ms = account.incoming, account.outgoing, tx.created_at_ms
    match = _commissioned(parameters) if commissioned else _non_commissioned(parameters)
    window, delay = param(parameters, "maxQueryRange"), param(parameters, "maxMirrorDelay")
    unused = sorted(_movements(incoming, now_ms, window))
    sent_list = _movements(outgoing, now_ms, window)
    if side == "debtor":
        sent_list.append((now_ms, tx.amount, tx.creditor_account))
    pairs = 0
    for sent_at, sent, sent_to in sorted(sent_list):
        for index, (received_at, received, received_from) in enumerate(unused):
            if (
                received_at <= sent_at
                and sent_at - received_at <= delay
                and received_from != sent_to
                and match(received, sent)
            ):
                del unused[index]
                pairs += 1
                break
    return pairs


def _non_commissioned(parameters: Parameters) -> AmountMatch:
    """Sent within `amountTolerance` (a fraction, e.g. 0.005 = 0.5%) of the received amount."""
    tolerance = param(parameters, "amountTolerance")
    return lambda received, sent: received > 0 and abs(sent - received) / received <= tolerance


def _commissioned(parameters: Parameters) -> AmountMatch:
    """Sent = received less a commission of `minimumCommission`..`maximumCommission` (inclusive
    fractions of the received amount, e.g. 0.01..0.25)."""
    low, high = param(parameters, "minimumCommission"), param(parameters, "maximumCommission")
    return lambda received, sent: received > 0 and low <= (received - sent) / received <= high


def _movements(edges: Iterable[Edge], now_ms: int, window: float) -> list[Movement]:
    return [
        (e.at_ms, e.amount, e.counterparty_account)
        for e in successful(within(edges, now_ms, window))
    ]
