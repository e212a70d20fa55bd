"""026 Commissioned transaction mirroring - creditor.

A pass-through (mule) account receives money and soon sends it on to someone else, keeping a
commission. Here the account receiving this payment is examined: has it already been
forwarding what it receives? Measured: the number of mirrored pairs in the creditor's
successful history within `maxQueryRange` - an incoming transfer followed, no later than
`maxMirrorDelay` (ms), by an outgoing transfer to a different account of the incoming amount
less a commission of `minimumCommission`..`maximumCommission` (inclusive fractions of it); each
transfer is paired at most once (see _mirroring). The current payment cannot be mirrored yet,
so it is not counted. No history simply measures 0: there is no .x01.
"""

from __future__ import annotations

from activities.monitoring.rules._mirroring import mirrored_pairs
from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    return mirrored_pairs(tx, features, parameters, side="creditor", commissioned=True)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.CREDITOR_INCOMING, Needs.CREDITOR_OUTGOING}),
    default_config=rule_config(
        "026",
        "Commissioned transaction mirroring - creditor",
        parameters={
            "maxQueryRange": 7 * MS_PER_DAY,
            "maxMirrorDelay": MS_PER_DAY,
            "minimumCommission": 0.01,
            "maximumCommission": 0.25,
        },
        exits=[(".x00", "Unsuccessful transaction")],
        bands=[
            (None, 1, ".01", "Creditor has not forwarded received amounts less a commission"),
            (1, 2, ".02", "Creditor forwarded one received amount less a commission"),
            (2, 5, ".03", "Creditor repeatedly forwarded received amounts minus a cut (2-4 times)"),
            (5, None, ".04", "Creditor forwards amounts minus a cut systematically (5+ times)"),
        ],
    ),
)
