"""An amount against an account's usual amounts, the measurement of rules 020 (the creditor's
incoming transfers) and 048 (the debtor's outgoing transfers).

A standard deviation of at most FLOAT_NOISE times the mean is no variance: identical amounts
like 1234.56 leave ~1e-13 of floating-point noise, which must not read as a huge z-score.
Rule 020 counts an empty history as insufficient whatever `minimumNumberOfTransactions` says
(`empty_is_insufficient`); rule 048 reads an empty history (with a minimum of 0) as amounts
of 0 without variance.
"""

from __future__ import annotations

from collections.abc import Iterable

from activities.monitoring.rules.base import (
    Parameters,
    amounts,
    mean_and_stdev,
    param,
    successful,
    within,
)
from core.monitoring.classify import (
    INSUFFICIENT_HISTORY,
    NO_VARIANCE_DOWNTURN,
    NO_VARIANCE_UPTURN,
    Exit,
    Measurement,
)
from core.monitoring.transactions import Edge, Transaction

FLOAT_NOISE = 1e-9


def amount_z_score(
    tx: Transaction,
    edges: Iterable[Edge],
    parameters: Parameters,
    *,
    empty_is_insufficient: bool,
) -> Measurement:
    """The z-score (amount - mean) / standard deviation (population) of the amount against
    the successful `edges` within `maxQueryRange`. Fewer than `minimumNumberOfTransactions`
    of them is insufficient history (.x01). Without variance, an amount above the mean exits
    .x03 (upturn), below it .x04 (downturn), and the same amount measures 0."""
    history = successful(within(edges, tx.created_at_ms, param(parameters, "maxQueryRange")))
    if (empty_is_insufficient and not history) or len(history) < param(
        parameters, "minimumNumberOfTransactions"
    ):
        return Exit(INSUFFICIENT_HISTORY)
    mean, stdev = mean_and_stdev(amounts(history))
    if stdev <= FLOAT_NOISE * abs(mean):
        if tx.amount > mean + stdev:
            return Exit(NO_VARIANCE_UPTURN)
        if tx.amount < mean - stdev:
            return Exit(NO_VARIANCE_DOWNTURN)
        return 0.0
    return (tx.amount - mean) / stdev
