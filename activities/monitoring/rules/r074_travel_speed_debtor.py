"""074 Distance over time from last transaction location - debtor.

A debtor who pays from two places further apart than anyone could travel in the time between
("impossible travel") is likely two people sharing one credential. Compares the new
transaction's location (tx.debtor_lat/lon) with the location of the debtor's latest located
outgoing transaction within `maxQueryRange`, whatever its status: a rejected attempt still
shows where the debtor was. Measured: the speed needed, in km/h (great-circle km over hours
elapsed, rounded to 0.001 km/h). Elapsed time is floored at `minimumElapsedMs` so two
transactions at the same instant give a very high, finite speed. No location on the new
transaction or no located earlier one is insufficient data (.x01).
"""

from __future__ import annotations

from activities.monitoring.rules.base import (
    Needs,
    Parameters,
    Rule,
    haversine_km,
    param,
    rule_config,
    within,
)
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction

MS_PER_HOUR = 3_600_000


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    if tx.debtor_lat is None or tx.debtor_lon is None:
        return Exit(INSUFFICIENT_HISTORY)
    points = [
        (e.at_ms, e.lat, e.lon)
        for e in within(
            features.debtor.outgoing, tx.created_at_ms, param(parameters, "maxQueryRange")
        )
        if e.lat is not None and e.lon is not None
    ]
    if not points:
        return Exit(INSUFFICIENT_HISTORY)
    at_ms, lat, lon = max(points)  # the latest located transaction
    km = haversine_km(lat, lon, tx.debtor_lat, tx.debtor_lon)
    elapsed_ms = max(tx.created_at_ms - at_ms, param(parameters, "minimumElapsedMs"))
    # rounding keeps floating-point noise from tipping a value across a band limit
    return round(km / (elapsed_ms / MS_PER_HOUR), 3)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.DEBTOR_OUTGOING}),
    default_config=rule_config(
        "074",
        "Distance over time from last transaction location - debtor",
        parameters={"maxQueryRange": 30 * MS_PER_DAY, "minimumElapsedMs": 60_000},
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient data: no location for this or an earlier transaction"),
        ],
        bands=[
            (None, 80, ".01", "Travel since the last transaction is possible on the ground"),
            (80, 300, ".02", "Travel since the last transaction needs fast transport"),
            (300, 1000, ".03", "Travel since the last transaction is only possible by air"),
            (1000, None, ".04", "Impossible travel since the last transaction"),
        ],
    ),
)
