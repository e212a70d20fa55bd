"""045 Successful transactions to the creditor (including the new one).

An account receiving its first payments is how a fresh money mule looks. Measured: the
number of successful incoming transactions of the creditor within `maxQueryRange`, plus 1
for the new one (a count, at least 1). Failed or rejected payments do not count.
"""

from __future__ import annotations

from activities.monitoring.rules._counts import transactions_with_current
from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    # the features hold earlier history only; the count adds 1 for the new transaction
    incoming = features.creditor.incoming
    return transactions_with_current(incoming, tx.created_at_ms, parameters, only_successful=True)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.CREDITOR_INCOMING}),
    default_config=rule_config(
        "045",
        "Successful transactions to the creditor",
        parameters={"maxQueryRange": 90 * MS_PER_DAY},
        exits=[(".x00", "Unsuccessful transaction")],
        bands=[
            (None, 2, ".01", "First successful transaction received by the creditor"),
            (2, 5, ".02", "The creditor has received only 2 to 4 successful transactions"),
            (5, None, ".03", "The creditor has an established record of incoming transactions"),
        ],
    ),
)
