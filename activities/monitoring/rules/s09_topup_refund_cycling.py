"""s09 Top-up then refund cycling.

Topping a wallet up and getting the money refunded (to a possibly different account) moves
funds through the school system and launders their origin. Measured: the number of
top-up-then-refund cycles on this student's wallet in the last 30 days
(SchoolContext.topup_refund_cycles_30d). Exits .x01 without school context.
"""

from __future__ import annotations

from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    if features.school is None:
        return Exit(INSUFFICIENT_HISTORY)
    return features.school.topup_refund_cycles_30d


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.SCHOOL}),
    default_config=rule_config(
        "s09",
        "Top-up then refund cycling",
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient data: no school context"),
        ],
        bands=[
            (None, 1, ".01", "No top-up/refund cycle in 30 days"),
            (1, 3, ".02", "1 or 2 top-up/refund cycles in 30 days"),
            (3, None, ".03", "3 or more top-up/refund cycles in 30 days"),
        ],
    ),
)
