"""008 Outgoing transfer similarity - creditor.

Paying the same creditor again and again in a short time is how victims of investment,
romance or extortion scams pay, and how funds are layered into one mule. Measured: how many
of the debtor's `maxQueryLimit` most recent earlier successful outgoing transfers within
`maxQueryRange` (ms) went to this transaction's creditor account (a count, 0 to
`maxQueryLimit`). No earlier transfer in range is insufficient history (.x01).
"""

from __future__ import annotations

from activities.monitoring.rules._recent_transfers import most_recent
from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    recent = most_recent(features.debtor.outgoing, tx.created_at_ms, parameters)
    if not recent:
        return Exit(INSUFFICIENT_HISTORY)
    return sum(1 for e in recent if e.counterparty_account == tx.creditor_account)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.DEBTOR_OUTGOING}),
    default_config=rule_config(
        "008",
        "Outgoing transfer similarity - creditor",
        parameters={"maxQueryLimit": 5, "maxQueryRange": 7 * MS_PER_DAY},
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient transaction history"),
        ],
        bands=[
            (None, 1, ".01", "None of the debtor's recent transfers went to this creditor"),
            (1, 3, ".02", "One or two of the debtor's recent transfers went to this creditor"),
            (
                3,
                None,
                ".03",
                "Three or more of the debtor's recent transfers went to this creditor",
            ),
        ],
    ),
)
