"""075 Distance from habitual locations - debtor.

A payment far from every place the debtor usually pays from suggests someone else is using
the account. A habitual location is the location of one of the debtor's successful outgoing
transactions within `maxQueryRange` around which at least `minimumVisits` such located
transactions (itself included) lie within `habitRadiusKm`. Measured: the great-circle
distance in km (rounded to 0.001 km) from the new transaction's location (tx.debtor_lat/lon)
to the nearest habitual location. No location on the new transaction, or no habitual
location yet, is insufficient data (.x01).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right

from activities.monitoring.rules.base import (
    EARTH_RADIUS_KM,
    Needs,
    Parameters,
    Rule,
    haversine_km,
    param,
    rule_config,
    successful,
    within,
)
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    if tx.debtor_lat is None or tx.debtor_lon is None:
        return Exit(INSUFFICIENT_HISTORY)
    history = within(features.debtor.outgoing, tx.created_at_ms, param(parameters, "maxQueryRange"))
    points = [
        (e.lat, e.lon) for e in successful(history) if e.lat is not None and e.lon is not None
    ]
    radius, visits = param(parameters, "habitRadiusKm"), param(parameters, "minimumVisits")
    nearest = nearest_habitual_km(points, (tx.debtor_lat, tx.debtor_lon), radius, visits)
    if nearest is None:
        return Exit(INSUFFICIENT_HISTORY)
    # rounding keeps floating-point noise from tipping a value across a band limit
    return round(nearest, 3)


def nearest_habitual_km(
    points: list[tuple[float, float]], at: tuple[float, float], radius_km: float, visits: float
) -> float | None:
    """The distance from `at` to the nearest habitual location among `points` (None: there
    is none). The points are tried nearest first, so usually only the nearest few are
    checked for being habitual, not every one of the debtor's payments."""
    by_latitude = _ByLatitude(points, radius_km)
    for distance, point in sorted((haversine_km(*p, *at), p) for p in points):
        if by_latitude.is_habitual(point, visits):
            return distance
    return None


def habitual_locations(
    points: list[tuple[float, float]], radius_km: float, visits: float
) -> list[tuple[float, float]]:
    """The points with at least `visits` points (itself included) within `radius_km`."""
    by_latitude = _ByLatitude(points, radius_km)
    return [p for p in by_latitude.ordered if by_latitude.is_habitual(p, visits)]


class _ByLatitude:
    """Points sorted by latitude. Comparing every point with every other is quadratic, too
    slow for a debtor with a few hundred located payments. A point is compared only with
    those whose latitude alone leaves them within
    reach (a great-circle distance is at least the radius times the difference in latitude),
    and counting stops once it has `visits`."""

    def __init__(self, points: list[tuple[float, float]], radius_km: float) -> None:
        self.ordered = sorted(points)
        self.latitudes = [lat for lat, _ in self.ordered]
        self.radius_km = radius_km
        # a hair wider than the bound, so rounding never leaves out a point on the radius
        self.reach = math.degrees(radius_km / EARTH_RADIUS_KM) * (1 + 1e-9)

    def is_habitual(self, point: tuple[float, float], visits: float) -> bool:
        lat, lon = point
        near = 0
        for j in range(
            bisect_left(self.latitudes, lat - self.reach),
            bisect_right(self.latitudes, lat + self.reach),
        ):
            if near >= visits:
                break
            if haversine_km(lat, lon, *self.ordered[j]) <= self.radius_km:
                near += 1
        return near >= visits


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.DEBTOR_OUTGOING}),
    default_config=rule_config(
        "075",
        "Distance from habitual locations - debtor",
        parameters={"maxQueryRange": 90 * MS_PER_DAY, "habitRadiusKm": 0.5, "minimumVisits": 3},
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient data: no location or no habitual location yet"),
        ],
        bands=[
            (None, 1, ".01", "At one of the debtor's habitual locations (under 1 km)"),
            (1, 10, ".02", "Near the debtor's habitual locations (1 to 10 km)"),
            (10, 100, ".03", "Away from the debtor's habitual locations (10 to 100 km)"),
            (100, None, ".04", "Far from every habitual location of the debtor (100 km or more)"),
        ],
    ),
)
