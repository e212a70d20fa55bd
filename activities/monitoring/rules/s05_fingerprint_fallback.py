"""s05 Fingerprint failures followed by PIN/QR fallback.

Someone who is not the student fails the fingerprint sensor, then pays with a leaked PIN or a
copied QR code. Measured: the number of failed fingerprint matches just before this
transaction (SchoolContext.recent_fingerprint_failures) when it was authorised by PIN or QR;
0 for any other authorisation (fingerprint, operator override). Exits .x01 for a PIN/QR
transaction without school context.
"""

from __future__ import annotations

from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import Features, Transaction

FALLBACK_METHODS = frozenset({"pin", "qr"})


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    if tx.auth_method not in FALLBACK_METHODS:
        return 0
    if features.school is None:
        return Exit(INSUFFICIENT_HISTORY)
    return features.school.recent_fingerprint_failures


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.SCHOOL}),
    default_config=rule_config(
        "s05",
        "Fingerprint failures followed by PIN/QR fallback",
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient data: no school context"),
        ],
        bands=[
            (None, 1, ".01", "No failed fingerprint before a PIN/QR fallback"),
            (1, 3, ".02", "1 or 2 failed fingerprints, then PIN/QR (wet or dirty finger)"),
            (3, 5, ".03", "3 or 4 failed fingerprints, then PIN/QR"),
            (5, None, ".04", "5 or more failed fingerprints, then PIN/QR"),
        ],
    ),
)
