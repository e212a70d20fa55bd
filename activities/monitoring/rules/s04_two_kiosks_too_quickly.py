"""s04 The same student at two different kiosks too quickly.

A card used at two kiosks moments apart is being used by two people (shared or cloned).
Looks at the student's successful outgoing kiosk purchases (edges with a channel, i.e. a
kiosk id) within `maxQueryRange` and finds the latest one at a kiosk other than this
transaction's. Measured: the gap in milliseconds from that purchase to this transaction.
Exits .x01 when this transaction has no kiosk or there is no such earlier purchase.
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

MINUTE = 60_000


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    if tx.kiosk_id is None:
        return Exit(INSUFFICIENT_HISTORY)
    history = successful(
        within(features.debtor.outgoing, tx.created_at_ms, param(parameters, "maxQueryRange"))
    )
    elsewhere = [e.at_ms for e in history if e.channel is not None and e.channel != tx.kiosk_id]
    if not elsewhere:
        return Exit(INSUFFICIENT_HISTORY)
    return tx.created_at_ms - max(elsewhere)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.DEBTOR_OUTGOING}),
    default_config=rule_config(
        "s04",
        "Same student at two kiosks too quickly",
        parameters={"maxQueryRange": MS_PER_DAY},
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient history: no recent purchase at another kiosk"),
        ],
        bands=[
            (None, MINUTE, ".01", "Purchase at another kiosk less than 1 minute earlier"),
            (MINUTE, 5 * MINUTE, ".02", "Purchase at another kiosk 1 to 5 minutes earlier"),
            (5 * MINUTE, 30 * MINUTE, ".03", "Purchase at another kiosk 5 to 30 minutes earlier"),
            (30 * MINUTE, None, ".04", "Last purchase at another kiosk 30 minutes or more earlier"),
        ],
    ),
)
