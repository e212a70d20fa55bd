"""s06 Purchase while the student is marked absent.

A purchase on a day the school registered the student as absent means someone else holds the
card or the fingerprint is being spoofed. Measured: "absent" when the student is marked absent
today, else "present". Meant for kiosk purchases, where the network map routes it (a
guardian's top-up from home while the child is ill is normal). Exits .x01 without school
context.
"""

from __future__ import annotations

from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    if features.school is None:
        return Exit(INSUFFICIENT_HISTORY)
    return "absent" if features.school.absent_today else "present"


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.SCHOOL}),
    default_config=rule_config(
        "s06",
        "Purchase while the student is marked absent",
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient data: no school context"),
        ],
        cases=[("present", ".01", "Student is not marked absent today")],
        # anything but "present" is suspicious, so the catch-all is the alerting outcome
        alternative=(".02", "Purchase while the student is marked absent today"),
    ),
)
