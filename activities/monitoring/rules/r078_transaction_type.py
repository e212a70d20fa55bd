"""078 Transaction type.

Some kinds of transaction carry more risk than others (a bank transfer out of the platform
is riskier than a canteen purchase). A categorical rule: measured is the transaction's type,
tx.tx_type (one of core.monitoring.transactions.TxType), and each known type is a case; any
other type falls to the alternative (.00), so a new message type never goes unscored.
"""

from __future__ import annotations

from activities.monitoring.rules.base import Parameters, Rule, rule_config
from core.monitoring.classify import Measurement
from core.monitoring.transactions import Features, Transaction, TxType


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    return tx.tx_type


RULE = Rule(
    measure=measure,
    needs=frozenset(),
    default_config=rule_config(
        "078",
        "Transaction type",
        exits=[(".x00", "Unsuccessful transaction")],
        cases=[
            (TxType.KIOSK_PURCHASE, ".01", "A student's purchase at a canteen kiosk"),
            (TxType.TOP_UP, ".02", "A guardian's top-up of a student wallet"),
            (TxType.PACS_002, ".03", "A bank credit transfer, settled by its status report"),
            (TxType.PACS_008, ".04", "A bank customer credit transfer"),
            (TxType.PAIN_001, ".05", "A customer credit transfer initiation"),
            (TxType.PAIN_013, ".06", "A request to pay"),
        ],
        alternative=(".00", "The transaction type is not defined in this rule configuration"),
    ),
)
