"""063 Synthetic data check, Benford's law - creditor.

Amounts that people really pay follow Benford's law (about 30% start with 1, under 5% with
9); an account fed by invented or scripted amounts does not. Takes the leading digits of the
creditor's successful incoming amounts within `maxQueryRange` plus the new amount (zero
amounts have no leading digit and are skipped). Measured: Pearson's chi-square statistic
(dimensionless, 8 degrees of freedom) of those digits against Benford. Fewer than
`minimumNumberOfTransactions` digits is insufficient history (.x01): the test means nothing
on a handful of amounts. A canteen's fixed prices do not follow Benford either, so weight
this rule for bank transfers rather than kiosk sales.
"""

from __future__ import annotations

from activities.monitoring.rules._benford import benford_chi_square
from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    return benford_chi_square(tx, features.creditor.incoming, parameters)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.CREDITOR_INCOMING}),
    default_config=rule_config(
        "063",
        "Synthetic data check, Benford's law - creditor",
        parameters={"maxQueryRange": 365 * MS_PER_DAY, "minimumNumberOfTransactions": 50},
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient transaction history"),
        ],
        bands=[
            (0, 15.51, ".01", "Creditor's incoming amounts conform to Benford's law"),
            (
                15.51,
                20.09,
                ".02",
                "Creditor's incoming amounts deviate from Benford's law (p < 0.05)",
            ),
            (
                20.09,
                26.12,
                ".03",
                "Creditor's incoming amounts deviate strongly from Benford's law (p < 0.01)",
            ),
            (
                26.12,
                None,
                ".04",
                "Creditor's incoming amounts look synthetic: far from Benford (p < 0.001)",
            ),
        ],
    ),
)
