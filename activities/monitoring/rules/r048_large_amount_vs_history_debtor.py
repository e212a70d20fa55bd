"""048 Large transaction amount vs history - debtor.

Compares the amount with what the debtor usually pays: the mean and (population) standard
deviation of the debtor's successful outgoing amounts within `maxQueryRange`. Measured: the
z-score (amount - mean) / standard deviation, in standard deviations (negative = smaller
than usual). Fewer than `minimumNumberOfTransactions` earlier payments is insufficient
history (.x01). When every earlier amount is the same there is no variance: an amount above
it exits .x03 (upturn), below it .x04 (downturn), and the same amount measures 0.
"""

from __future__ import annotations

from activities.monitoring.rules._amount_history import amount_z_score
from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    return amount_z_score(tx, features.debtor.outgoing, parameters, empty_is_insufficient=False)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.DEBTOR_OUTGOING}),
    default_config=rule_config(
        "048",
        "Large transaction amount vs history - debtor",
        parameters={"maxQueryRange": 90 * MS_PER_DAY, "minimumNumberOfTransactions": 5},
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient transaction history"),
            (".x03", "Debtor always paid the same amount; this one is larger"),
            (".x04", "Debtor always paid the same amount; this one is smaller"),
        ],
        bands=[
            (None, 2, ".01", "Amount is in line with the debtor's history (under 2 std devs)"),
            (2, 3, ".02", "Amount is 2 to 3 standard deviations above the debtor's average"),
            (3, 5, ".03", "Amount is 3 to 5 standard deviations above the debtor's average"),
            (5, None, ".04", "Amount is 5 or more standard deviations above the debtor's average"),
        ],
    ),
)
