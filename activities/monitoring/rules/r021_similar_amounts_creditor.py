"""021 Large number of similar transaction amounts - creditor.

Many payments of about the same amount into one account (smurfing, collection of scam
proceeds, structuring below a limit) stand out against ordinary varied income. Measured: the
number of payments to the creditor within `maxQueryRange` (ms) whose amount is within
`amountTolerance` (a fraction of this payment's amount, inclusive) of this payment's amount -
its successful incoming transfers plus this payment, so the value is always at least 1. A
creditor without history simply measures 1: there is no .x01.
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
from core.monitoring.classify import Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    history = successful(
        within(features.creditor.incoming, tx.created_at_ms, param(parameters, "maxQueryRange"))
    )
    # compare the difference as a fraction of the amount: avoids rounding at the exact limit
    tolerance = param(parameters, "amountTolerance")
    similar = [
        e
        for e in history
        if e.amount == tx.amount
        or (tx.amount != 0 and abs(e.amount - tx.amount) / abs(tx.amount) <= tolerance)
    ]
    return len(similar) + 1


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.CREDITOR_INCOMING}),
    default_config=rule_config(
        "021",
        "Large number of similar transaction amounts - creditor",
        parameters={"maxQueryRange": 7 * MS_PER_DAY, "amountTolerance": 0.05},
        exits=[(".x00", "Unsuccessful transaction")],
        bands=[
            (None, 3, ".01", "1-2 payments of a similar amount to the creditor in the period"),
            (3, 5, ".02", "3-4 payments of a similar amount to the creditor in the period"),
            (5, 10, ".03", "5-9 payments of a similar amount to the creditor in the period"),
            (10, None, ".04", "10+ payments of a similar amount to the creditor: smurfing?"),
        ],
    ),
)
