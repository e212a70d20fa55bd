"""s07 Many overrides, voids or refunds by one staff member today.

A canteen operator who overrides authentication, voids sales or refunds often can be
skimming students' wallets. Measured: the number of overrides/voids/refunds by this
transaction's operator (tx.operator_id) today, as counted by the school context
(operator_actions_today); 0 when no staff member acted on this transaction. Exits .x01 when
an operator acted but there is no school context.
"""

from __future__ import annotations

from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    if tx.operator_id is None:
        return 0
    if features.school is None:
        return Exit(INSUFFICIENT_HISTORY)
    return features.school.operator_actions_today


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.SCHOOL}),
    default_config=rule_config(
        "s07",
        "Operator overrides, voids and refunds today",
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient data: no school context"),
        ],
        bands=[
            (None, 3, ".01", "Operator made fewer than 3 overrides/voids/refunds today"),
            (3, 8, ".02", "Operator made 3 to 7 overrides/voids/refunds today"),
            (8, 15, ".03", "Operator made 8 to 14 overrides/voids/refunds today"),
            (15, None, ".04", "Operator made 15 or more overrides/voids/refunds today"),
        ],
    ),
)
