"""016 Transaction convergence - creditor.

Many different accounts paying the same creditor in a short time suggests a collection
(mule) account or a scam paid by many victims. Measured: the number of distinct debtor
accounts that paid the creditor account successfully within `maxQueryRange` (ms), this
transaction's debtor included (a count, 1 or more). No history exit: none is needed.
"""

from __future__ import annotations

from activities.monitoring.rules._counts import distinct_payers
from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    incoming = features.creditor.incoming  # this payment converges on the creditor too
    return distinct_payers(incoming, tx.created_at_ms, parameters, current=tx.debtor_account)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.CREDITOR_INCOMING}),
    default_config=rule_config(
        "016",
        "Transaction convergence - creditor",
        parameters={"maxQueryRange": MS_PER_DAY},
        exits=[(".x00", "Unsuccessful transaction")],
        bands=[
            (None, 3, ".01", "Creditor was paid by fewer than 3 distinct accounts in 24 hours"),
            (3, 5, ".02", "Creditor was paid by 3 to 4 distinct accounts in 24 hours"),
            (5, None, ".03", "Funds converge: creditor was paid by 5 or more accounts in 24 hours"),
        ],
    ),
)
