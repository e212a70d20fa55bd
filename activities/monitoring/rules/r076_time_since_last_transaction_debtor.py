"""076 Time since last transaction - debtor.

Payments fired in quick succession (a script, or someone racing to empty a wallet before it
is blocked) leave almost no time between them. Measured: milliseconds from the debtor's
latest successful outgoing transaction to the new one. Failed attempts do not count: this
rule is about completed payments (rule 901 counts attempts). No earlier successful
transaction in the history is insufficient history (.x01).
"""

from __future__ import annotations

from activities.monitoring.rules.base import (
    Needs,
    Parameters,
    Rule,
    rule_config,
    successful,
    within,
)
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction

MS_PER_MINUTE = 60_000
MS_PER_HOUR = 3_600_000


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    # no query range: the latest earlier payment counts however old (dormancy is rule 004)
    history = successful(within(features.debtor.outgoing, tx.created_at_ms, None))
    if not history:
        return Exit(INSUFFICIENT_HISTORY)
    return tx.created_at_ms - max(e.at_ms for e in history)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.DEBTOR_OUTGOING}),
    default_config=rule_config(
        "076",
        "Time since last transaction - debtor",
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient transaction history"),
        ],
        bands=[
            (None, MS_PER_MINUTE, ".01", "Less than a minute since the debtor's last payment"),
            (MS_PER_MINUTE, MS_PER_HOUR, ".02", "1 to 60 minutes since the debtor's last payment"),
            (MS_PER_HOUR, MS_PER_DAY, ".03", "1 to 24 hours since the debtor's last payment"),
            (MS_PER_DAY, None, ".04", "A day or more since the debtor's last payment"),
        ],
    ),
)
