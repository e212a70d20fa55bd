"""Helpers shared by rules 054 and 063 (Benford's law on the debtor's / creditor's amounts)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

from activities.rules.base import first_digit

# Benford's expected share of each leading digit: log10(1 + 1/d)
BENFORD = {d: math.log10(1 + 1 / d) for d in range(1, 10)}


def leading_digits(values: Iterable[float]) -> list[int]:
    """Leading digits of the non-zero amounts (zero has no leading digit and is skipped)."""
    return [d for d in (first_digit(v) for v in values) if d is not None]


def benford_chi_square(digits: list[int]) -> float:
    """Pearson's chi-square of the observed leading digits against Benford (8 degrees of
    freedom). 15.51 / 20.09 / 26.12 are the critical values at p = 0.05 / 0.01 / 0.001."""
    n = len(digits)
    observed = Counter(digits)
    return sum((observed[d] - n * p) ** 2 / (n * p) for d, p in BENFORD.items())
