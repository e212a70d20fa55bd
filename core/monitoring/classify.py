"""Turn a rule's measurement into its outcome: an exit, a band, a case, or `.err`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

from core.monitoring.config import ERROR_OUTCOME, RuleConfigBody

UNSUCCESSFUL = ".x00"
INSUFFICIENT_HISTORY = ".x01"
NO_VARIANCE_UPTURN = ".x03"
NO_VARIANCE_DOWNTURN = ".x04"


@dataclass(frozen=True)
class Exit:
    """A rule's early answer instead of a measurement, e.g. Exit('.x01') for too little history."""

    sub_rule_ref: str


Measurement = float | int | str | Exit


class Classified(NamedTuple):
    sub_rule_ref: str
    reason: str


def classify(measurement: Measurement, config: RuleConfigBody) -> Classified:
    if isinstance(measurement, Exit):
        for exit_condition in config.exit_conditions:
            if exit_condition.sub_rule_ref == measurement.sub_rule_ref:
                return Classified(exit_condition.sub_rule_ref, exit_condition.reason)
        return Classified(
            ERROR_OUTCOME, f"exit {measurement.sub_rule_ref} is not configured for this rule"
        )
    if config.cases is not None:
        for case in config.cases.expressions:
            if _same(case.value, measurement):
                return Classified(case.sub_rule_ref, case.reason)
        alternative = config.cases.alternative
        return Classified(alternative.sub_rule_ref, alternative.reason)
    assert config.bands is not None
    if isinstance(measurement, str) or (
        isinstance(measurement, float) and not math.isfinite(measurement)
    ):
        return Classified(ERROR_OUTCOME, f"measured value {measurement!r} cannot be banded")
    value = float(measurement)
    for lower, upper, sub_rule_ref, reason in config.band_table:
        if lower <= value < upper:  # lower limit inclusive, upper exclusive
            return Classified(sub_rule_ref, reason)
    return Classified(ERROR_OUTCOME, f"measured value {measurement} falls in no band")


def _same(expected: str | float, measured: float | int | str) -> bool:
    if isinstance(expected, str) or isinstance(measured, str):
        return str(expected) == str(measured)
    return float(expected) == float(measured)
