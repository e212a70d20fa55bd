"""020 Large transaction amount vs history - creditor.

An incoming payment far above what the creditor account usually receives can be a mule
receiving proceeds or an account taken over. Measured: the payment's z-score against the
creditor's successful incoming transfers within `maxQueryRange` (ms): (amount - mean) / standard
deviation (population), in standard deviations; negative when below the mean. Fewer than
`minimumNumberOfTransactions` earlier transfers is insufficient history (.x01). Identical
earlier amounts have no variance: a larger amount exits .x03 (upturn), a smaller one .x04
(downturn), the same amount measures 0.
"""

from __future__ import annotations

from activities.monitoring.rules._amount_history import amount_z_score
from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    return amount_z_score(tx, features.creditor.incoming, parameters, empty_is_insufficient=True)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.CREDITOR_INCOMING}),
    default_config=rule_config(
        "020",
        "Large transaction amount vs history - creditor",
        parameters={"maxQueryRange": 90 * MS_PER_DAY, "minimumNumberOfTransactions": 5},
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient transaction history"),
            (".x03", "Creditor always received the same amount; this one is larger"),
            (".x04", "Creditor always received the same amount; this one is smaller"),
        ],
        bands=[
            (None, 1, ".01", "Amount is within 1 standard deviation above the creditor's mean"),
            (1, 2, ".02", "Amount is 1-2 standard deviations above the creditor's mean"),
            (2, 3, ".03", "Amount is 2-3 standard deviations above the creditor's mean"),
            (3, None, ".04", "Amount is 3+ standard deviations above the creditor's mean"),
        ],
    ),
)
