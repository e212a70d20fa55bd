"""090 Upstream transaction divergence - debtor.

Layering: money arrives in an account and is promptly split among many recipients. Looks
upstream first: the debtor's latest successful incoming transfer within `maxQueryRange` is
the funding. Measured: the number of distinct creditor accounts the debtor has paid
successfully since that funding arrived, the new transaction's creditor included (a count,
at least 1). No successful incoming transfer in the range is insufficient history (.x01).
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
    now, range_ms = tx.created_at_ms, param(parameters, "maxQueryRange")
    funding = successful(within(features.debtor.incoming, now, range_ms))
    if not funding:
        return Exit(INSUFFICIENT_HISTORY)
    funded_at = max(e.at_ms for e in funding)
    paid = successful(within(features.debtor.outgoing, now, range_ms))
    creditors = {e.counterparty_account for e in paid if e.at_ms >= funded_at}
    return len(creditors | {tx.creditor_account})


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.DEBTOR_INCOMING, Needs.DEBTOR_OUTGOING}),
    default_config=rule_config(
        "090",
        "Upstream transaction divergence - debtor",
        parameters={"maxQueryRange": 7 * MS_PER_DAY},
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient history: no incoming funds in the query range"),
        ],
        bands=[
            (None, 2, ".01", "Funds received are going to a single creditor"),
            (2, 4, ".02", "Funds received are spread over 2 or 3 creditors"),
            (4, 7, ".03", "Funds received are spread over 4 to 6 creditors"),
            (7, None, ".04", "Funds received are fanned out to 7 or more creditors"),
        ],
    ),
)
