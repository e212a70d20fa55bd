"""017 Transaction divergence - debtor.

Divergence (fan-out) is one account paying many different accounts in a short time, as when
stolen or laundered funds are dispersed (layering). Measured: the number of distinct creditor
accounts the debtor paid within `maxQueryRange` (ms) - its successful outgoing transfers plus
this payment's creditor - so the value is always at least 1. A debtor without history simply
measures 1: there is no .x01.
"""

from __future__ import annotations

from activities.monitoring.rules.base import (
    Needs,
    Parameters,
    Rule,
    param,
    rule_config,
    successful,
    within,
)
from core.monitoring.classify import Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    history = successful(
        within(features.debtor.outgoing, tx.created_at_ms, param(parameters, "maxQueryRange"))
    )
    return len({e.counterparty_account for e in history} | {tx.creditor_account})


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.DEBTOR_OUTGOING}),
    default_config=rule_config(
        "017",
        "Transaction divergence - debtor",
        parameters={"maxQueryRange": MS_PER_DAY},
        exits=[(".x00", "Unsuccessful transaction")],
        bands=[
            (None, 3, ".01", "Debtor paid 1-2 distinct accounts in the period: no divergence"),
            (3, 6, ".02", "Debtor paid 3-5 distinct accounts in the period"),
            (6, 10, ".03", "Debtor paid 6-9 distinct accounts in the period: funds dispersing"),
            (10, None, ".04", "Debtor paid 10 or more distinct accounts in the period: fan-out"),
        ],
    ),
)
