"""028 Age classification - debtor.

Very young and elderly payers are the usual targets of scams and coercion (and, in a school
setting, an adult-looking pattern on a child's wallet or the reverse is worth a look).
Measured: the debtor's age in completed years on the transaction's date (UTC), from the
entity's ISO birth date (a date-time is accepted; its date is used). An unknown birth date
exits .x01; a malformed one or one after the transaction is a data error (.err).
"""

from __future__ import annotations

from datetime import UTC, datetime

from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    if not features.debtor_entity.birth_date:
        return Exit(INSUFFICIENT_HISTORY)
    born = datetime.fromisoformat(features.debtor_entity.birth_date).date()
    today = datetime.fromtimestamp(tx.created_at_ms / 1000, tz=UTC).date()
    if born > today:
        raise ValueError(f"birth date {born} is after the transaction date {today}")
    # the birthday counts from its date: someone born on 29 Feb ages on 1 Mar in other years
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.ENTITIES}),
    default_config=rule_config(
        "028",
        "Age classification - debtor",
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Debtor's date of birth is unknown"),
        ],
        bands=[
            (None, 13, ".01", "Debtor is a child (under 13)"),
            (13, 18, ".02", "Debtor is a minor (13-17)"),
            (18, 25, ".03", "Debtor is a young adult (18-24)"),
            (25, 65, ".04", "Debtor is an adult (25-64)"),
            (65, None, ".05", "Debtor is a senior (65 or older)"),
        ],
    ),
)
