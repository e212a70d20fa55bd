"""Benford's law on an account's amounts, the measurement of rules 054 (the debtor's outgoing
amounts) and 063 (the creditor's incoming amounts)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

from activities.monitoring.rules.base import (
    Parameters,
    amounts,
    first_digit,
    param,
    successful,
    within,
)
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import Edge, Transaction

# Benford's expected share of each leading digit: log10(1 + 1/d)
BENFORD = {d: math.log10(1 + 1 / d) for d in range(1, 10)}


def benford_chi_square(
    tx: Transaction, edges: Iterable[Edge], parameters: Parameters
) -> Measurement:
    """Chi-square against Benford of the leading digits of the successful `edges` within
    `maxQueryRange` plus the new amount; fewer than `minimumNumberOfTransactions` digits is
    insufficient history (.x01)."""
    history = successful(within(edges, tx.created_at_ms, param(parameters, "maxQueryRange")))
    digits = _leading_digits([*amounts(history), tx.amount])
    if len(digits) < param(parameters, "minimumNumberOfTransactions"):
        return Exit(INSUFFICIENT_HISTORY)
    return _chi_square(digits)


def _leading_digits(values: Iterable[float]) -> list[int]:
    """Leading digits of the non-zero amounts (zero has no leading digit and is skipped)."""
    return [d for d in (first_digit(v) for v in values) if d is not None]


def _chi_square(digits: list[int]) -> float:
    """Pearson's chi-square of the observed leading digits against Benford (8 degrees of
    freedom). 15.51 / 20.09 / 26.12 are the critical values at p = 0.05 / 0.01 / 0.001."""
    n = len(digits)
    observed = Counter(digits)
    return sum((observed[d] - n * p) ** 2 / (n * p) for d, p in BENFORD.items())
