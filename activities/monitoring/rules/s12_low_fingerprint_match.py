"""s12 Low fingerprint match score.

The kiosk's fingerprint module (ZFM-20) only accepts a finger whose match score passes its own
security threshold; accepted scores observed in the field run from about 52 to 83. A score
just above the threshold is where a spoofed or look-alike finger lands, so low is worst.
Measured: tx.match_score (the sensor's score, unitless) of a fingerprint-authorised
transaction. Exits .x01 when the transaction was not authorised by fingerprint or carries no
score.
"""

from __future__ import annotations

from activities.monitoring.rules.base import Parameters, Rule, rule_config
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    if tx.auth_method != "fingerprint" or tx.match_score is None:
        return Exit(INSUFFICIENT_HISTORY)
    return tx.match_score


RULE = Rule(
    measure=measure,
    needs=frozenset(),  # reads only the transaction
    default_config=rule_config(
        "s12",
        "Low fingerprint match score",
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient data: not a fingerprint purchase, or no match score"),
        ],
        bands=[
            (None, 60, ".01", "Weak fingerprint match (below 60), near the sensor's threshold"),
            (60, 70, ".02", "Fair fingerprint match (60 to 69)"),
            (70, None, ".03", "Strong fingerprint match (70 or more)"),
        ],
    ),
)
