"""Helpers shared by the school rules (s01..s12)."""

from __future__ import annotations

# Limits and caps are whole rupiah. A limit of 0 (or less) means "nothing allowed"; dividing
# by one rupiah instead keeps the ratio finite (bands cannot hold infinity) while any positive
# amount still lands far above a ratio of 1, i.e. in the highest band.
SMALLEST_LIMIT_IDR = 1.0


def ratio_to_limit(value: float, limit: float) -> float:
    """value / limit, with limits below one rupiah treated as one rupiah."""
    return value / max(limit, SMALLEST_LIMIT_IDR)
