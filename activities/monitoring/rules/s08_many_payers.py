"""s08 Many payers funding one child.

A child's wallet is normally topped up by one or two guardians; many different payers can
mean the wallet is used to collect or move money for others. Measured: the number of
distinct accounts that funded this student in the last 30 days
(SchoolContext.distinct_payers_30d). Exits .x01 without school context.
"""

from __future__ import annotations

from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    if features.school is None:
        return Exit(INSUFFICIENT_HISTORY)
    return features.school.distinct_payers_30d


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.SCHOOL}),
    default_config=rule_config(
        "s08",
        "Many payers funding one child",
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient data: no school context"),
        ],
        bands=[
            (None, 3, ".01", "Up to 2 payers in 30 days (guardians)"),
            (3, 5, ".02", "3 or 4 different payers in 30 days"),
            (5, 10, ".03", "5 to 9 different payers in 30 days"),
            (10, None, ".04", "10 or more different payers in 30 days"),
        ],
    ),
)
