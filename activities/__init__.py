"""Every side effect Saku's workflows need, as methods of small classes given their clients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis.asyncio as redis

from activities.monitoring.alerts import AlertPublisher
from activities.monitoring.evaluate import EvaluationActivities
from activities.monitoring.history import HistoryStore
from activities.selfcheck import SelfCheckActivities
from saku.db import Pool


def build_activities(
    pool: Pool, valkey: redis.Redis, publish_alert: AlertPublisher
) -> list[Callable[..., Any]]:
    """All activities, bound to the given dependencies (real ones, or fakes in unit tests)."""
    selfcheck = SelfCheckActivities(pool, valkey)
    evaluation = EvaluationActivities(pool, HistoryStore(pool, valkey), publish_alert)
    return [
        selfcheck.record,
        evaluation.run_rules,
        evaluation.persist,
        evaluation.evaluate_batch,
    ]
