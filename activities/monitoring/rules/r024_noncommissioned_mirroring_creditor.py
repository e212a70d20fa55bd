"""024 Non-commissioned transaction mirroring - creditor.

A pass-through (mule) account receives money and soon sends the same amount on to someone
else. Here the account receiving this payment is examined: has it already been forwarding what
it receives? Measured: the number of mirrored pairs in the creditor's successful history within
`maxQueryRange` - an incoming transfer followed, no later than `maxMirrorDelay` (ms), by an
outgoing transfer to a different account whose amount is within `amountTolerance` (fraction)
of it; each transfer is paired at most once (see _mirroring). The current payment cannot be
mirrored yet, so it is not counted. No history simply measures 0: there is no .x01.
"""

from __future__ import annotations

from activities.monitoring.rules._mirroring import mirrored_pairs
from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    return mirrored_pairs(tx, features, parameters, side="creditor", commissioned=False)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.CREDITOR_INCOMING, Needs.CREDITOR_OUTGOING}),
    default_config=rule_config(
        "024",
        "Non-commissioned transaction mirroring - creditor",
        parameters={
            "maxQueryRange": 7 * MS_PER_DAY,
            "maxMirrorDelay": MS_PER_DAY,
            "amountTolerance": 0.005,
        },
        exits=[(".x00", "Unsuccessful transaction")],
        bands=[
            (None, 1, ".01", "Creditor has not forwarded any amount it received"),
            (1, 2, ".02", "Creditor forwarded one received amount unchanged"),
            (2, 5, ".03", "Creditor repeatedly forwarded received amounts unchanged (2-4 times)"),
            (5, None, ".04", "Creditor forwards received amounts systematically (5+ times)"),
        ],
    ),
)
