from __future__ import annotations

import math
import random
from typing import Any

import pytest

from activities.monitoring.rules.base import haversine_km
from activities.monitoring.rules.r075_distance_from_habitual_locations_debtor import (
    RULE,
    habitual_locations,
    nearest_habitual_km,
)
from core.monitoring.transactions import Edge, Transaction
from tests.unit.rules.factory import edge, features, run, tx, with_parameters


def _east_km(km: float) -> float:
    """The longitude `km` east of (0, 0) along the equator."""
    return math.degrees(km / 6371.0088)


def _at(km_east: float, days_ago: float = 1, **overrides: Any) -> Edge:
    """An outgoing transaction made `km_east` east of (0, 0)."""
    return edge(days_ago, lat=0.0, lon=_east_km(km_east), **overrides)


HOME = [_at(0, 1), _at(0, 2), _at(0.3, 3)]  # three visits within 0.5 km: (0, 0) is habitual


def _paid_at(km_east: float) -> Transaction:
    return tx(debtor_lat=0.0, debtor_lon=_east_km(km_east))


@pytest.mark.parametrize(
    ("km", "expected"),
    [
        (0, ".01"),
        (0.999, ".01"),
        (1, ".02"),  # lower limit inclusive
        (9.999, ".02"),
        (10, ".03"),
        (99.999, ".03"),
        (100, ".04"),
        (3000, ".04"),
    ],
)
def test_bands_by_km_from_the_nearest_habitual_location(km: float, expected: str) -> None:
    # west of home, so (0, 0) is the nearest habitual point (0.3 km east is further)
    result = run(RULE, tx(debtor_lat=0.0, debtor_lon=-_east_km(km)), features(debtor_outgoing=HOME))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == km


def test_the_nearest_of_several_habitual_locations_counts() -> None:
    school = [_at(50, 4), _at(50, 5), _at(50, 6)]
    result = run(RULE, _paid_at(45), features(debtor_outgoing=[*HOME, *school]))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".02", 5)


def test_a_place_visited_too_rarely_is_not_habitual() -> None:
    rare = [_at(50, 4), _at(50, 5)]  # two visits only
    result = run(RULE, _paid_at(50), features(debtor_outgoing=[*HOME, *rare]))
    # measured from the nearest home visit (0.3 km east), which is itself habitual
    assert result.indpdnt_varbl == pytest.approx(49.7)


@pytest.mark.parametrize(
    "history",
    [
        [],
        HOME[:2],  # two visits
        [*HOME[:2], _at(0, 3, status="RJCT")],  # a failed payment is no visit
        [*HOME[:2], _at(0, 91)],  # outside the 90-day query range
        [*HOME[:2], edge(3)],  # no location
        [_at(0, 1), _at(0, 2), _at(0.6, 3)],  # third visit outside the 0.5 km radius
    ],
)
def test_no_habitual_location_exits(history: list[Edge]) -> None:
    result = run(RULE, _paid_at(0), features(debtor_outgoing=history))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".x01", None)


def test_visits_and_radius_are_configurable() -> None:
    config = with_parameters(RULE, minimumVisits=2, habitRadiusKm=1)
    history = [_at(0, 1), _at(0.9, 2)]
    assert run(RULE, _paid_at(0), features(debtor_outgoing=history), config).indpdnt_varbl == 0


def test_no_location_on_the_transaction_exits() -> None:
    assert run(RULE, tx(), features(debtor_outgoing=HOME)).sub_rule_ref == ".x01"


def test_unsuccessful_transaction_exits() -> None:
    result = run(
        RULE, tx(status="RJCT", debtor_lat=10.0, debtor_lon=10.0), features(debtor_outgoing=HOME)
    )
    assert result.sub_rule_ref == ".x00"


def test_habitual_locations_are_those_the_definition_gives() -> None:
    rng = random.Random(11)
    for _ in range(200):
        # clusters of visits around a few places, some close enough to merge
        centres = [(rng.uniform(-7, -6), rng.uniform(106, 107)) for _ in range(rng.randint(1, 4))]
        points = [
            (lat + rng.gauss(0, 0.004), lon + rng.gauss(0, 0.004))
            for lat, lon in (rng.choice(centres) for _ in range(rng.randint(0, 40)))
        ]
        radius, visits = rng.choice([0.1, 0.5, 2.0]), rng.choice([1, 3, 5])
        by_definition = [
            p for p in points if sum(haversine_km(*p, *q) <= radius for q in points) >= visits
        ]
        assert sorted(habitual_locations(points, radius, visits)) == sorted(by_definition)
        # the rule's search, nearest point first, finds the nearest of those
        at = (rng.uniform(-7, -6), rng.uniform(106, 107))
        nearest = min((haversine_km(*p, *at) for p in by_definition), default=None)
        assert nearest_habitual_km(points, at, radius, visits) == nearest


def test_hundreds_of_visits_to_one_place_are_one_habitual_location() -> None:
    home = [_at(0, days_ago=i / 10) for i in range(1, 400)]
    result = run(RULE, _paid_at(2), features(debtor_outgoing=home))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".02", 2)
