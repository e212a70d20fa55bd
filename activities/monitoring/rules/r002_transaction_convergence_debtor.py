"""002 Transaction convergence - debtor.

Funds from many different accounts converging on one account shortly before it pays out is
how mules collect money before moving it on. Measured: the number of distinct accounts that
paid the debtor account successfully within `maxQueryRange` (ms) before this transaction
(a count, 0 or more). There is no history exit: no incoming payments is a real 0.
"""

from __future__ import annotations

from activities.monitoring.rules._counts import distinct_payers
from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    return distinct_payers(features.debtor.incoming, tx.created_at_ms, parameters)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.DEBTOR_INCOMING}),
    default_config=rule_config(
        "002",
        "Transaction convergence - debtor",
        parameters={"maxQueryRange": MS_PER_DAY},
        exits=[(".x00", "Unsuccessful transaction")],
        bands=[
            (None, 3, ".01", "Debtor was paid by fewer than 3 distinct accounts in 24 hours"),
            (3, 5, ".02", "Debtor was paid by 3 to 4 distinct accounts in 24 hours"),
            (5, None, ".03", "Funds converge: debtor was paid by 5 or more accounts in 24 hours"),
        ],
    ),
)
