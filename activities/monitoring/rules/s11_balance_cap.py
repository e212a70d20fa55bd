"""s11 E-money balance cap.

Stored-value wallets are capped by regulation (Bank Indonesia: IDR 2,000,000 for unregistered
e-money) and by the school. Measured: the wallet balance after this transaction relative to
the cap - (wallet_balance + amount) / balance_cap for a top-up (saku.topup), and
wallet_balance / balance_cap for anything else, which cannot raise the balance. A cap of 0
is treated as 1 IDR. Exits .x01 without school context or balance cap.
"""

from __future__ import annotations

from activities.monitoring.rules._limit_ratio import ratio_to_limit
from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import Features, Transaction, TxType


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    school = features.school
    if school is None or school.balance_cap is None:
        return Exit(INSUFFICIENT_HISTORY)
    credited = tx.amount if tx.tx_type == TxType.TOP_UP else 0.0
    return ratio_to_limit(school.wallet_balance + credited, school.balance_cap)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.SCHOOL}),
    default_config=rule_config(
        "s11",
        "E-money balance cap",
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient data: no balance cap known"),
        ],
        bands=[
            (None, 0.8, ".01", "Balance stays below 80% of the e-money cap"),
            (0.8, 1, ".02", "Balance reaches 80% to 100% of the e-money cap"),
            (1, None, ".03", "Balance after this transaction is at or over the e-money cap"),
        ],
    ),
)
