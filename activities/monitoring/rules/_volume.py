"""Increased account activity (volume), shared by rules 010 (debtor, outgoing) and 011
(creditor, incoming): the same measure and configuration on each side.

Convention: an account's history holds only *earlier* transactions, never the one being
evaluated; the current interval's count adds it explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from activities.monitoring.rules.base import (
    Needs,
    Parameters,
    Rule,
    mean_and_stdev,
    param,
    rule_config,
    successful,
)
from core.monitoring.classify import (
    INSUFFICIENT_HISTORY,
    NO_VARIANCE_DOWNTURN,
    NO_VARIANCE_UPTURN,
    Exit,
    Measurement,
)
from core.monitoring.transactions import MS_PER_DAY, Edge, Features, Transaction


def volume_zscore(
    edges: Iterable[Edge], now_ms: int, first_seen_ms: int | None, parameters: Parameters
) -> Measurement:
    """Standard score of the current interval's transaction count against earlier intervals.

    Interval k covers ages [k*I, (k+1)*I) with I = `evaluationIntervalTime`; interval 0 is
    the current one and counts the transaction being evaluated too. The history is the
    complete intervals 1..K inside `maxQueryRange` that start after the account was first
    seen (zeros from before the account existed would fake a quiet past).
    """
    interval = param(parameters, "evaluationIntervalTime")
    if first_seen_ms is None:
        return Exit(INSUFFICIENT_HISTORY)
    span = min(param(parameters, "maxQueryRange"), now_ms - interval - first_seen_ms)
    intervals = max(0, int(span // interval))
    if intervals < param(parameters, "minimumNumberOfIntervals"):
        return Exit(INSUFFICIENT_HISTORY)
    counts = [0] * (intervals + 1)
    for e in successful(edges):
        k = int((now_ms - e.at_ms) // interval)
        if 0 <= k <= intervals:  # k < 0: after now; k > intervals: outside the range
            counts[k] += 1
    current = counts[0] + 1  # this transaction belongs to the current interval
    mean, stdev = mean_and_stdev([float(c) for c in counts[1:]])
    if stdev == 0:
        return Exit(NO_VARIANCE_UPTURN if current > mean else NO_VARIANCE_DOWNTURN)
    return (current - mean) / stdev


def volume_rule(code: str, party: Literal["debtor", "creditor"]) -> Rule:
    """Rule `code`: the volume of the debtor's outgoing or the creditor's incoming
    transactions against the account's habit."""
    direction = "outgoing" if party == "debtor" else "incoming"
    heading = direction.capitalize()

    def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
        account = getattr(features, party)
        edges = getattr(account, direction)
        return volume_zscore(edges, tx.created_at_ms, account.first_seen_ms, parameters)

    history = Needs.DEBTOR_OUTGOING if party == "debtor" else Needs.CREDITOR_INCOMING
    return Rule(
        measure=measure,
        needs=frozenset({history, Needs.ACCOUNT_AGE}),
        default_config=rule_config(
            code,
            f"Increased account activity: volume - {party}",
            parameters={
                "evaluationIntervalTime": MS_PER_DAY,
                "maxQueryRange": 30 * MS_PER_DAY,
                "minimumNumberOfIntervals": 7,
            },
            exits=[
                (".x00", "Unsuccessful transaction"),
                (".x01", "Insufficient transaction history"),
                (
                    ".x03",
                    f"No variance in history; current {direction} volume is above the average",
                ),
                (
                    ".x04",
                    f"No variance in history; current {direction} volume is at or below "
                    "the average",
                ),
            ],
            bands=[
                (
                    None,
                    2,
                    ".01",
                    f"{heading} volume is within 2 standard deviations of the usual",
                ),
                (2, 3, ".02", f"{heading} volume is 2 to 3 standard deviations above the usual"),
                (
                    3,
                    None,
                    ".03",
                    f"{heading} volume is 3 or more standard deviations above the usual",
                ),
            ],
        ),
    )
