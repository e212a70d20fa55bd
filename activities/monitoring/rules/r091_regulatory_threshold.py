"""091 Transaction amount vs regulatory threshold.

Amounts at or above a reporting threshold must be reported, and amounts kept just under it
may be structuring. The threshold is a parameter (`threshold`, in `currency`); the default is
Indonesia's IDR 500,000,000 reporting threshold (PPATK). Measured: amount / threshold (a
ratio; 1 = exactly the threshold), so the bands hold if the threshold changes. A transaction
in another currency cannot be compared without a rate: insufficient data (.x01).
"""

from __future__ import annotations

from activities.monitoring.rules.base import Parameters, Rule, param, rule_config
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    threshold = param(parameters, "threshold")
    if tx.currency != parameters.get("currency", "IDR"):
        return Exit(INSUFFICIENT_HISTORY)
    return tx.amount / threshold


RULE = Rule(
    measure=measure,
    needs=frozenset(),
    default_config=rule_config(
        "091",
        "Transaction amount vs regulatory threshold",
        parameters={"threshold": 500_000_000, "currency": "IDR"},
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient data: amount is not in the threshold's currency"),
        ],
        bands=[
            (None, 0.8, ".01", "Amount is well below the reporting threshold"),
            (0.8, 0.95, ".02", "Amount is 80% to 95% of the reporting threshold"),
            (0.95, 1, ".03", "Amount is just below the reporting threshold: possible structuring"),
            (1, None, ".04", "Amount is at or above the reporting threshold: reportable"),
        ],
    ),
)
