"""901 Number of outgoing transactions - debtor.

A burst of payments from one account (a stolen wallet being emptied, a script testing a
card) shows as velocity. Measured: the number of outgoing transactions of the debtor within
`maxQueryRange` (default 24 hours), whatever their status, plus 1 for the new one (a count,
at least 1). Failed attempts count on purpose: repeated rejected tries are part of the burst.
"""

from __future__ import annotations

from activities.monitoring.rules._counts import transactions_with_current
from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    outgoing = features.debtor.outgoing  # every attempt counts, failed ones too
    return transactions_with_current(outgoing, tx.created_at_ms, parameters, only_successful=False)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.DEBTOR_OUTGOING}),
    default_config=rule_config(
        "901",
        "Number of outgoing transactions - debtor",
        parameters={"maxQueryRange": MS_PER_DAY},
        exits=[(".x00", "Unsuccessful transaction")],
        bands=[
            (None, 5, ".01", "Fewer than 5 outgoing transactions from the debtor in 24 hours"),
            (5, 10, ".02", "5 to 9 outgoing transactions from the debtor in 24 hours"),
            (10, 20, ".03", "10 to 19 outgoing transactions from the debtor in 24 hours"),
            (20, None, ".04", "20 or more outgoing transactions from the debtor in 24 hours"),
        ],
    ),
)
