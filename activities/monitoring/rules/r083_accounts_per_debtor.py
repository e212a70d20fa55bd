"""083 Multiple accounts associated with a debtor.

One person (entity) holding many accounts can spread activity to stay under per-account
limits and velocity checks. Measured: the number of accounts linked to the debtor entity
(features.debtor_entity.account_count, a count). A count below 1 means the entity's
accounts were not loaded (the debtor holds at least the paying account): .x01.
"""

from __future__ import annotations

from activities.monitoring.rules._counts import accounts_held
from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import Measurement
from core.monitoring.transactions import Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    return accounts_held(features.debtor_entity)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.ENTITIES}),
    default_config=rule_config(
        "083",
        "Multiple accounts associated with a debtor",
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient data: the debtor's accounts are unknown"),
        ],
        bands=[
            (None, 2, ".01", "The debtor holds a single account"),
            (2, 4, ".02", "The debtor holds 2 or 3 accounts"),
            (4, None, ".03", "The debtor holds 4 or more accounts"),
        ],
    ),
)
