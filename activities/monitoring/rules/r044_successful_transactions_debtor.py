"""044 Successful transactions from the debtor (including the new one).

A debtor paying for the first time (a newly opened or newly taken-over account) deserves
more scrutiny than one with an established record. Measured: the number of successful
outgoing transactions of the debtor within `maxQueryRange`, plus 1 for the new one (a
count, at least 1). Failed or rejected payments do not count: they build no track record.
"""

from __future__ import annotations

from activities.monitoring.rules._counts import transactions_with_current
from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    # the features hold earlier history only; the count adds 1 for the new transaction
    outgoing = features.debtor.outgoing
    return transactions_with_current(outgoing, tx.created_at_ms, parameters, only_successful=True)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.DEBTOR_OUTGOING}),
    default_config=rule_config(
        "044",
        "Successful transactions from the debtor",
        parameters={"maxQueryRange": 90 * MS_PER_DAY},
        exits=[(".x00", "Unsuccessful transaction")],
        bands=[
            (None, 2, ".01", "First successful transaction from the debtor"),
            (2, 5, ".02", "The debtor has made only 2 to 4 successful transactions"),
            (5, None, ".03", "The debtor has an established record of successful transactions"),
        ],
    ),
)
