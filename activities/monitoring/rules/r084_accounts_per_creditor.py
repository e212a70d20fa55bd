"""084 Multiple accounts associated with a creditor.

One person (entity) collecting into many accounts can spread receipts to stay under
per-account limits and velocity checks. Measured: the number of accounts linked to the
creditor entity (features.creditor_entity.account_count, a count). A count below 1 means the
entity's accounts were not loaded (the creditor holds at least the receiving account): .x01.
"""

from __future__ import annotations

from activities.monitoring.rules._counts import accounts_held
from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import Measurement
from core.monitoring.transactions import Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    return accounts_held(features.creditor_entity)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.ENTITIES}),
    default_config=rule_config(
        "084",
        "Multiple accounts associated with a creditor",
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient data: the creditor's accounts are unknown"),
        ],
        bands=[
            (None, 2, ".01", "The creditor holds a single account"),
            (2, 4, ".02", "The creditor holds 2 or 3 accounts"),
            (4, None, ".03", "The creditor holds 4 or more accounts"),
        ],
    ),
)
