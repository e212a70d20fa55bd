"""011 Increased account activity: volume - creditor.

A sudden burst of incoming transactions compared with the account's own habit is a sign of
takeover, mule use or a scam in progress. Measured: the standard score (z, in standard
deviations) of the number of successful incoming transactions of the creditor account in the
current `evaluationIntervalTime` (this transaction included) against the counts of the
earlier complete intervals within `maxQueryRange` (ms) since the account was first seen.
Exits: fewer than `minimumNumberOfIntervals` earlier intervals, or an account never seen,
is insufficient history (.x01); a history with no variance exits .x03 when the current
count is above its average and .x04 otherwise.
"""

from __future__ import annotations

from activities.monitoring.rules._volume import volume_zscore
from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    account = features.creditor
    return volume_zscore(account.incoming, tx.created_at_ms, account.first_seen_ms, parameters)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.CREDITOR_INCOMING, Needs.ACCOUNT_AGE}),
    default_config=rule_config(
        "011",
        "Increased account activity: volume - creditor",
        parameters={
            "evaluationIntervalTime": MS_PER_DAY,
            "maxQueryRange": 30 * MS_PER_DAY,
            "minimumNumberOfIntervals": 7,
        },
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient transaction history"),
            (".x03", "No variance in history; current incoming volume is above the average"),
            (".x04", "No variance in history; current incoming volume is at or below the average"),
        ],
        bands=[
            (None, 2, ".01", "Incoming volume is within 2 standard deviations of the usual"),
            (2, 3, ".02", "Incoming volume is 2 to 3 standard deviations above the usual"),
            (3, None, ".03", "Incoming volume is 3 or more standard deviations above the usual"),
        ],
    ),
)
