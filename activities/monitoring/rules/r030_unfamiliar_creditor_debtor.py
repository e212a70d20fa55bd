"""030 Transfer to unfamiliar creditor account - debtor.

Fraud that takes over an account or talks its owner into paying (authorised push payment
scams) usually sends money to an account the debtor has never paid before. Measured: the
number of the debtor's successful outgoing transfers to this payment's creditor account within
`maxQueryRange` (ms), this payment excluded: 0 means a new payee. A debtor with fewer than
`minimumNumberOfTransactions` successful outgoing transfers in that range has no habits to
compare with: insufficient history (.x01).
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
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    history = successful(
        within(features.debtor.outgoing, tx.created_at_ms, param(parameters, "maxQueryRange"))
    )
    if not history or len(history) < param(parameters, "minimumNumberOfTransactions"):
        return Exit(INSUFFICIENT_HISTORY)
    return sum(1 for e in history if e.counterparty_account == tx.creditor_account)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.DEBTOR_OUTGOING}),
    default_config=rule_config(
        "030",
        "Transfer to unfamiliar creditor account - debtor",
        parameters={"maxQueryRange": 90 * MS_PER_DAY, "minimumNumberOfTransactions": 1},
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Debtor has no outgoing history to compare with"),
        ],
        bands=[
            (None, 1, ".01", "Debtor has never paid this creditor account: new payee"),
            (1, 3, ".02", "Debtor paid this creditor account only 1-2 times before"),
            (3, None, ".03", "Debtor pays this creditor account regularly (3+ times)"),
        ],
    ),
)
