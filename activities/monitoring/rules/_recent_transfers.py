"""Helpers shared by rules 006/007/008 (outgoing transfer similarity).

Convention: an account's history holds only *earlier* transactions, never the one being
evaluated; rules that need the current transaction in a count add it explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable

from activities.monitoring.rules.base import Parameters, param, successful, within
from core.monitoring.transactions import Edge


def most_recent(edges: Iterable[Edge], now_ms: int, parameters: Parameters) -> list[Edge]:
    """The `maxQueryLimit` newest successful edges within `maxQueryRange`, newest first."""
    limit = int(param(parameters, "maxQueryLimit"))
    recent = successful(within(edges, now_ms, param(parameters, "maxQueryRange")))
    return sorted(recent, key=lambda e: e.at_ms, reverse=True)[:limit]
