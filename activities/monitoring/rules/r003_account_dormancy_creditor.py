"""003 Account dormancy - creditor.

A long-quiet account that suddenly transacts may have been taken over or sold to a mule
herder. Measured: milliseconds from the creditor account's latest earlier successful
transaction (incoming or outgoing) to this transaction's creation time. Failed attempts do
not count as activity. No earlier successful transaction in the loaded history is
insufficient history (.x01); the feature loader's history window must therefore reach back
further than the top band (1 year) for that band to be reachable.
"""

from __future__ import annotations

from activities.monitoring.rules._dormancy import dormancy
from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    return dormancy(features.creditor, tx.created_at_ms)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.CREDITOR_INCOMING, Needs.CREDITOR_OUTGOING}),
    default_config=rule_config(
        "003",
        "Account dormancy - creditor",
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "No earlier creditor account activity in the history window"),
        ],
        bands=[
            (None, 30 * MS_PER_DAY, ".01", "Creditor account was active in the last 30 days"),
            (
                30 * MS_PER_DAY,
                90 * MS_PER_DAY,
                ".02",
                "Creditor account was inactive 30 to 90 days",
            ),
            (
                90 * MS_PER_DAY,
                365 * MS_PER_DAY,
                ".03",
                "Creditor account was dormant 90 days to 1 year",
            ),
            (365 * MS_PER_DAY, None, ".04", "Creditor account was dormant for more than 1 year"),
        ],
    ),
)
