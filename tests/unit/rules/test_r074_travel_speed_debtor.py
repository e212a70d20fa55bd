from __future__ import annotations

import math
from typing import Any

import pytest

from activities.monitoring.rules.r074_travel_speed_debtor import RULE
from core.monitoring.transactions import MS_PER_DAY, Edge
from tests.unit.rules.factory import HOUR, NOW, edge, features, run, tx


def _east_km(km: float) -> float:
    """The longitude `km` east of (0, 0) along the equator."""
    return math.degrees(km / 6371.0088)


def _from_origin(**overrides: Any) -> Edge:
    """An outgoing transaction made at (0, 0)."""
    return edge(**{"lat": 0.0, "lon": 0.0, **overrides})


@pytest.mark.parametrize(
    ("km_in_one_hour", "expected"),
    [
        (0, ".01"),
        (79.999, ".01"),
        (80, ".02"),  # lower limit inclusive
        (299.999, ".02"),
        (300, ".03"),
        (999.999, ".03"),
        (1000, ".04"),
        (12_000, ".04"),
    ],
)
def test_bands_by_speed_in_km_per_hour(km_in_one_hour: float, expected: str) -> None:
    history = [_from_origin(at_ms=NOW - HOUR)]
    result = run(
        RULE,
        tx(debtor_lat=0.0, debtor_lon=_east_km(km_in_one_hour)),
        features(debtor_outgoing=history),
    )
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == km_in_one_hour


def test_speed_is_distance_over_elapsed_hours() -> None:
    history = [_from_origin(at_ms=NOW - 4 * HOUR)]
    result = run(
        RULE, tx(debtor_lat=0.0, debtor_lon=_east_km(600)), features(debtor_outgoing=history)
    )
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".02", 150)


def test_elapsed_time_is_floored_at_one_minute() -> None:
    history = [_from_origin(at_ms=NOW)]  # same instant
    result = run(
        RULE, tx(debtor_lat=0.0, debtor_lon=_east_km(1)), features(debtor_outgoing=history)
    )
    assert result.indpdnt_varbl == 60  # 1 km in 1 minute


def test_compares_with_the_latest_located_transaction_failed_or_not() -> None:
    history = [
        _from_origin(at_ms=NOW - 10 * HOUR),
        edge(at_ms=NOW - 2 * HOUR, lat=0.0, lon=_east_km(500), status="RJCT"),
        edge(at_ms=NOW - HOUR),  # no location: skipped
    ]
    result = run(
        RULE, tx(debtor_lat=0.0, debtor_lon=_east_km(500)), features(debtor_outgoing=history)
    )
    assert result.indpdnt_varbl == 0


@pytest.mark.parametrize(
    "history",
    [
        [],
        [edge(at_ms=NOW - HOUR)],  # no location
        [_from_origin(at_ms=NOW - 30 * MS_PER_DAY - 1)],  # outside the query range
        [_from_origin(at_ms=NOW + HOUR)],  # after the transaction being evaluated
    ],
)
def test_no_located_earlier_transaction_exits(history: list[Edge]) -> None:
    result = run(RULE, tx(debtor_lat=0.0, debtor_lon=1.0), features(debtor_outgoing=history))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".x01", None)


def test_no_location_on_the_transaction_exits() -> None:
    history = [_from_origin(at_ms=NOW - HOUR)]
    result = run(RULE, tx(debtor_lat=0.0), features(debtor_outgoing=history))
    assert result.sub_rule_ref == ".x01"


def test_unsuccessful_transaction_exits() -> None:
    history = [_from_origin(at_ms=NOW - HOUR)]
    result = run(
        RULE, tx(status="RJCT", debtor_lat=0.0, debtor_lon=90.0), features(debtor_outgoing=history)
    )
    assert result.sub_rule_ref == ".x00"
