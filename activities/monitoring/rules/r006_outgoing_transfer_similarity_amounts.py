"""006 Outgoing transfer similarity - amounts.

Repeating (nearly) the same amount is typical of scripted fraud, structuring and victims
coached into paying in instalments. Measured: how many of the debtor's `maxQueryLimit` most
recent earlier successful outgoing transfers within `maxQueryRange` (ms) have an amount
within `tolerance` (a fraction, 0.1 = 10%) of this transaction's amount (a count, 0 to
`maxQueryLimit`). No earlier transfer in range is insufficient history (.x01).
"""

from __future__ import annotations

from activities.monitoring.rules._recent_transfers import most_recent
from activities.monitoring.rules.base import Needs, Parameters, Rule, param, rule_config
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    recent = most_recent(features.debtor.outgoing, tx.created_at_ms, parameters)
    if not recent:
        return Exit(INSUFFICIENT_HISTORY)
    allowed = param(parameters, "tolerance") * abs(tx.amount)  # relative to this amount
    return sum(1 for e in recent if abs(e.amount - tx.amount) <= allowed)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.DEBTOR_OUTGOING}),
    default_config=rule_config(
        "006",
        "Outgoing transfer similarity - amounts",
        parameters={"maxQueryLimit": 5, "maxQueryRange": 30 * MS_PER_DAY, "tolerance": 0.1},
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient transaction history"),
        ],
        bands=[
            (None, 1, ".01", "No similar amount among the debtor's recent transfers"),
            (1, 3, ".02", "One or two of the debtor's recent transfers had a similar amount"),
            (3, None, ".03", "Three or more of the debtor's recent transfers had a similar amount"),
        ],
    ),
)
