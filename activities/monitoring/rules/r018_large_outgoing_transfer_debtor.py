"""018 Exceptionally large outgoing transfer - debtor.

Compares the amount with the largest successful outgoing transfer the debtor made within
`maxQueryRange`. Measured: amount / that maximum. Fewer than
`minimumNumberOfTransactions` earlier transfers is insufficient history (.x01).
"""

from __future__ import annotations

from activities.monitoring.rules.base import (
    Needs,
    Parameters,
    Rule,
    param,
    rule_config,
    successful,
    within,
)
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    history = successful(
        within(features.debtor.outgoing, tx.created_at_ms, param(parameters, "maxQueryRange"))
    )
    if len(history) < param(parameters, "minimumNumberOfTransactions"):
        return Exit(INSUFFICIENT_HISTORY)
    largest = max(e.amount for e in history)
    if largest <= 0:
        return Exit(INSUFFICIENT_HISTORY)
    return tx.amount / largest


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.DEBTOR_OUTGOING}),
    default_config=rule_config(
        "018",
        "Exceptionally large outgoing transfer - debtor",
        parameters={"maxQueryRange": 90 * MS_PER_DAY, "minimumNumberOfTransactions": 3},
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient transaction history"),
        ],
        bands=[
            (None, 1.5, ".01", "Amount is within 1.5x the debtor's largest transfer"),
            (1.5, 3, ".02", "Amount is 1.5x to 3x the debtor's largest transfer"),
            (3, None, ".03", "Amount is more than 3x the debtor's largest transfer"),
        ],
    ),
)
