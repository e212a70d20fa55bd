"""s10 Offline-cap evasion found at sync.

An offline kiosk lets a student spend up to an offline cap without checking the balance;
spending at several offline kiosks in the same offline period evades it and is only visible
when the kiosks sync. Measured, for offline purchases (tx.offline): the ratio of the
student's offline sales across all kiosks in that period (offline_spent_across_kiosks, IDR)
to the offline cap; 0 for online transactions. A cap of 0 is treated as 1 IDR. Exits .x01
for an offline purchase without school context or offline cap.
"""

from __future__ import annotations

from activities.monitoring.rules._limit_ratio import ratio_to_limit
from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    if not tx.offline:
        return 0.0
    school = features.school
    if school is None or school.offline_cap is None:
        return Exit(INSUFFICIENT_HISTORY)
    return ratio_to_limit(school.offline_spent_across_kiosks, school.offline_cap)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.SCHOOL}),
    default_config=rule_config(
        "s10",
        "Offline-cap evasion found at sync",
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient data: no offline cap known"),
        ],
        bands=[
            (None, 0.8, ".01", "Offline spending below 80% of the offline cap"),
            (0.8, 1, ".02", "Offline spending at 80% to 100% of the offline cap"),
            (1, 2, ".03", "Offline spending across kiosks reaches or exceeds the cap (up to 2x)"),
            (2, None, ".04", "Offline spending across kiosks is 2x the cap or more"),
        ],
    ),
)
