"""001 Derived account age - creditor.

A payment to an account that appeared only recently is a classic mule pattern. The account's
age is derived from the first transaction Saku has seen on it (no earlier transaction: the
account is new, age 0). Measured: age in milliseconds at the transaction's creation time.
"""

from __future__ import annotations

from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    first_seen = features.creditor.first_seen_ms
    if first_seen is None:
        return 0
    return max(0, tx.created_at_ms - first_seen)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.ACCOUNT_AGE}),
    default_config=rule_config(
        "001",
        "Derived account age - creditor",
        exits=[(".x00", "Unsuccessful transaction")],
        bands=[
            (None, MS_PER_DAY, ".01", "Creditor account is less than 1 day old"),
            (MS_PER_DAY, 30 * MS_PER_DAY, ".02", "Creditor account is 1 to 30 days old"),
            (30 * MS_PER_DAY, 365 * MS_PER_DAY, ".03", "Creditor account is 30 days to 1 year old"),
            (365 * MS_PER_DAY, None, ".04", "Creditor account is more than 1 year old"),
        ],
    ),
)
