"""902 Number of incoming transactions - creditor.

Many payers funnelling money into one account in a short time is how collection (mule)
accounts look. Measured: the number of incoming transactions of the creditor within
`maxQueryRange` (default 24 hours), whatever their status, plus 1 for the new one (a count,
at least 1). Canteen kiosks legitimately receive many payments a day, so the bands are wide
and typologies should weight this rule with the creditor's kind in mind.
"""

from __future__ import annotations

from activities.monitoring.rules._counts import transactions_with_current
from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    incoming = features.creditor.incoming  # every attempt counts, failed ones too
    return transactions_with_current(incoming, tx.created_at_ms, parameters, only_successful=False)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.CREDITOR_INCOMING}),
    default_config=rule_config(
        "902",
        "Number of incoming transactions - creditor",
        parameters={"maxQueryRange": MS_PER_DAY},
        exits=[(".x00", "Unsuccessful transaction")],
        bands=[
            (None, 10, ".01", "Fewer than 10 incoming transactions to the creditor in 24 hours"),
            (10, 50, ".02", "10 to 49 incoming transactions to the creditor in 24 hours"),
            (50, 200, ".03", "50 to 199 incoming transactions to the creditor in 24 hours"),
            (200, None, ".04", "200 or more incoming transactions to the creditor in 24 hours"),
        ],
    ),
)
