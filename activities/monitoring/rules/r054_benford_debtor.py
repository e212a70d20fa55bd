"""054 Synthetic data check, Benford's law - debtor.

Amounts that people really pay follow Benford's law (about 30% start with 1, under 5% with
9); invented or scripted amounts usually do not. Takes the leading digits of the debtor's
successful outgoing amounts within `maxQueryRange` plus the new amount (zero amounts have no
leading digit and are skipped). Measured: Pearson's chi-square statistic (dimensionless, 8
degrees of freedom) of those digits against Benford. Fewer than
`minimumNumberOfTransactions` digits is insufficient history (.x01): the test means nothing
on a handful of amounts. Fixed canteen prices do not follow Benford either, so weight this
rule for bank transfers rather than kiosk purchases.
"""

from __future__ import annotations

from activities.monitoring.rules._benford import benford_chi_square
from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    return benford_chi_square(tx, features.debtor.outgoing, parameters)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.DEBTOR_OUTGOING}),
    default_config=rule_config(
        "054",
        "Synthetic data check, Benford's law - debtor",
        parameters={"maxQueryRange": 365 * MS_PER_DAY, "minimumNumberOfTransactions": 50},
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient transaction history"),
        ],
        bands=[
            (0, 15.51, ".01", "Debtor's amounts conform to Benford's law"),
            (15.51, 20.09, ".02", "Debtor's amounts deviate from Benford's law (p < 0.05)"),
            (
                20.09,
                26.12,
                ".03",
                "Debtor's amounts deviate strongly from Benford's law (p < 0.01)",
            ),
            (26.12, None, ".04", "Debtor's amounts look synthetic: far from Benford (p < 0.001)"),
        ],
    ),
)
