"""s01 Guardian spending limit breached.

Guardians set a daily and/or a weekly kiosk-spending limit for their child. Measured: the
ratio of (already spent in the period + this amount) to the limit, for each limit that is
set, taking the stricter (the larger ratio) of daily and weekly. 1.0 means the purchase
exactly uses up the limit. A limit of 0 (spending blocked) is treated as 1 IDR, so any
purchase measures far above 1. Meant for kiosk purchases (saku.purchase), where the network
map routes it. Exits .x01 when there is no school context or no limit is set.
"""

from __future__ import annotations

from activities.monitoring.rules._limit_ratio import ratio_to_limit
from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    school = features.school
    if school is None:
        return Exit(INSUFFICIENT_HISTORY)
    periods = [
        (school.spent_today, school.daily_limit),
        (school.spent_this_week, school.weekly_limit),
    ]
    ratios = [
        ratio_to_limit(spent + tx.amount, limit) for spent, limit in periods if limit is not None
    ]
    if not ratios:
        return Exit(INSUFFICIENT_HISTORY)
    return max(ratios)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.SCHOOL}),
    default_config=rule_config(
        "s01",
        "Guardian spending limit breached",
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient data: no school context or no guardian limit set"),
        ],
        bands=[
            (None, 0.8, ".01", "Spending stays below 80% of the guardian's limit"),
            (0.8, 1, ".02", "Spending reaches 80% to 100% of the guardian's limit"),
            (1, 1.5, ".03", "Spending reaches or exceeds the guardian's limit (up to 1.5x)"),
            (1.5, None, ".04", "Spending is 1.5x the guardian's limit or more"),
        ],
    ),
)
