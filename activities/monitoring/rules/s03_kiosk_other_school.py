"""s03 Kiosk not at the student's school.

A student's wallet spent at a kiosk registered to another school points to a lent, stolen
or cloned card. Measured: "same" when the kiosk's school is the student's school, otherwise
"other" (which falls to the alternative case). Exits .x01 when there is no school context
or the kiosk's school is unknown.
"""

from __future__ import annotations

from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    school = features.school
    if school is None or school.kiosk_school_id is None:
        return Exit(INSUFFICIENT_HISTORY)
    return "same" if school.kiosk_school_id == school.student_school_id else "other"


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.SCHOOL}),
    default_config=rule_config(
        "s03",
        "Kiosk not at the student's school",
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient data: the kiosk's school is unknown"),
        ],
        cases=[("same", ".01", "Kiosk is at the student's school")],
        # anything but "same" is suspicious, so the catch-all is the alerting outcome
        alternative=(".02", "Kiosk belongs to a different school than the student's"),
    ),
)
