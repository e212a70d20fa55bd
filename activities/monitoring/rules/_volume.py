"""Increased account activity (volume), shared by rules 010 (debtor) and 011 (creditor).

Convention: an account's history holds only *earlier* transactions, never the one being
evaluated; the current interval's count adds it explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable

from activities.monitoring.rules.base import Parameters, mean_and_stdev, param, successful
from core.monitoring.classify import (
    INSUFFICIENT_HISTORY,
    NO_VARIANCE_DOWNTURN,
    NO_VARIANCE_UPTURN,
    Exit,
    Measurement,
)
from core.monitoring.transactions import Edge


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
