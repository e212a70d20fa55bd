"""Helpers shared by rules 002/016 (convergence), 003/004 (dormancy), 006/007/008 (outgoing
transfer similarity) and 010/011 (activity volume).

Convention: an account's history holds only *earlier* transactions, never the one being
evaluated; rules that need the current transaction in a count add it explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable

from activities.rules.base import Parameters, mean_and_stdev, param, successful, within
from saku.domain.transactions import AccountHistory, Edge
from saku.monitoring.classify import (
    INSUFFICIENT_HISTORY,
    NO_VARIANCE_DOWNTURN,
    NO_VARIANCE_UPTURN,
    Exit,
    Measurement,
)


def counterparties(edges: Iterable[Edge], now_ms: int, range_ms: float) -> set[str]:
    """Distinct counterparty accounts of the successful edges within range_ms before now."""
    return {e.counterparty_account for e in successful(within(edges, now_ms, range_ms))}


def last_activity_age_ms(history: AccountHistory, now_ms: int) -> int | None:
    """Milliseconds since the account's latest successful transaction in either direction
    (failed attempts do not wake a dormant account); None when there is none."""
    times = [e.at_ms for e in successful([*history.outgoing, *history.incoming])]
    times = [t for t in times if t <= now_ms]
    return now_ms - max(times) if times else None


def most_recent(edges: Iterable[Edge], now_ms: int, parameters: Parameters) -> list[Edge]:
    """The `maxQueryLimit` newest successful edges within `maxQueryRange`, newest first."""
    limit = int(param(parameters, "maxQueryLimit"))
    recent = successful(within(edges, now_ms, param(parameters, "maxQueryRange")))
    return sorted(recent, key=lambda e: e.at_ms, reverse=True)[:limit]


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
