"""Every side effect Saku's workflows need, as methods of small classes given their clients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis.asyncio as redis

from activities.selfcheck import SelfCheckActivities
from saku.db import Pool


def build_activities(pool: Pool, valkey: redis.Redis) -> list[Callable[..., Any]]:
    """All activities, bound to the given dependencies (real ones, or fakes in unit tests)."""
    selfcheck = SelfCheckActivities(pool, valkey)
    return [selfcheck.record]
