"""What a rule is, how it runs, and the small history helpers rules share.

A rule is a pure function `measure(transaction, features, parameters) -> Measurement` plus
its default configuration (bands or cases, exit conditions) and the history it needs, which
names the query that feeds it (see activities/features.py). `run_rule` applies a rule
config: the `.x00` exit for unsuccessful transactions, classification, and `.err` for any
failure, so a broken rule yields an answer, never a hang or a crash.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.monitoring.classify import UNSUCCESSFUL, Classified, Exit, Measurement, classify
from core.monitoring.config import ERROR_OUTCOME, RuleConfig
from core.monitoring.results import RuleResult
from core.monitoring.transactions import SUCCESS_STATUSES, Edge, Features, Transaction

Parameters = Mapping[str, Any]
DEFAULT_CFG = "1.0.0"
EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)


class Needs(StrEnum):
    """The history a rule reads; the feature loader fetches only what active rules need."""

    DEBTOR_OUTGOING = "debtor.outgoing"
    DEBTOR_INCOMING = "debtor.incoming"
    CREDITOR_INCOMING = "creditor.incoming"
    CREDITOR_OUTGOING = "creditor.outgoing"
    ACCOUNT_AGE = "account.first_seen"
    ENTITIES = "entities"
    SCHOOL = "school"


@dataclass(frozen=True)
class Rule:
    measure: Callable[[Transaction, Features, Parameters], Measurement]
    default_config: RuleConfig  # names the rule: id "001@1.0.0", desc its name
    needs: frozenset[Needs]

    @property
    def code(self) -> str:
        """ "001" for the config id "001@1.0.0"."""
        return self.default_config.rule_code

    @property
    def name(self) -> str:
        return self.default_config.desc

    @property
    def config_id(self) -> str:
        return self.default_config.id


def rule_config(
    code: str,
    name: str,
    *,
    parameters: Parameters | None = None,
    exits: Iterable[tuple[str, str]] = (),
    bands: Iterable[tuple[float | None, float | None, str, str]] = (),
    cases: Iterable[tuple[str | float, str, str]] = (),
    alternative: tuple[str, str] | None = None,
) -> RuleConfig:
    """Build a default config in Tazama's shape.

    exits: (subRuleRef, reason); bands: (lowerLimit, upperLimit, subRuleRef, reason);
    cases: (value, subRuleRef, reason) plus alternative (subRuleRef, reason).
    """
    body: dict[str, Any] = {
        "parameters": dict(parameters or {}),
        "exitConditions": [{"subRuleRef": ref, "reason": why} for ref, why in exits],
    }
    band_list = [
        {"lowerLimit": lo, "upperLimit": hi, "subRuleRef": ref, "reason": why}
        for lo, hi, ref, why in bands
    ]
    if band_list:
        body["bands"] = band_list
    case_list = [{"value": v, "subRuleRef": ref, "reason": why} for v, ref, why in cases]
    if case_list:
        assert alternative is not None, "cases need an alternative"
        body["cases"] = {
            "expressions": case_list,
            "alternative": {"subRuleRef": alternative[0], "reason": alternative[1]},
        }
    return RuleConfig.model_validate(
        {"id": f"{code}@1.0.0", "cfg": DEFAULT_CFG, "desc": name, "config": body}
    )


def run_rule(rule: Rule, config: RuleConfig, tx: Transaction, features: Features) -> RuleResult:
    started = time.perf_counter()
    measured: Measurement | None = None
    try:
        if tx.unsuccessful and any(
            e.sub_rule_ref == UNSUCCESSFUL for e in config.config.exit_conditions
        ):
            measured = Exit(UNSUCCESSFUL)
        else:
            measured = rule.measure(tx, features, config.config.parameters)
        outcome = classify(measured, config.config)
    except Exception as err:  # a rule must answer: its failure is the `.err` outcome
        outcome = Classified(ERROR_OUTCOME, f"{type(err).__name__}: {err}")
    value = None if isinstance(measured, Exit) else measured
    # the result's type says float: a count stays 2.0 on every path, and not 2 when the
    # batch stores it but 2.0 when it has crossed a workflow (its converter follows the type)
    if type(value) is int:
        value = float(value)
    # positional: this runs for every rule of every transaction, and keywords cost more
    return RuleResult(
        config.id,
        config.cfg,
        outcome.sub_rule_ref,
        outcome.reason,
        value,
        # to a tenth of a microsecond: finer digits only lengthen every stored evaluation
        round((time.perf_counter() - started) * 1000, 4),
    )


# --- helpers shared by history rules ----------------------------------------------------


# `within` and `successful` run for most rules on every transaction: written for speed.


def within(edges: Iterable[Edge], now_ms: int, range_ms: float | None) -> list[Edge]:
    """Edges no older than range_ms before now_ms (and not after it); None = no limit."""
    if range_ms is None:
        return [e for e in edges if e.at_ms <= now_ms]
    since = now_ms - range_ms
    return [e for e in edges if since <= e.at_ms <= now_ms]


def successful(edges: Iterable[Edge]) -> list[Edge]:
    """Edges whose payment went through (`Edge.successful`)."""
    return [e for e in edges if e.status is None or e.status in SUCCESS_STATUSES]


def param(parameters: Parameters, name: str, default: float | None = None) -> float:
    """A numeric parameter; a missing one without default is a config error (-> .err)."""
    value = parameters.get(name, default)
    if value is None:
        raise KeyError(f"parameter {name!r} is required")
    return float(value)


def amounts(edges: Iterable[Edge]) -> list[float]:
    return [e.amount for e in edges]


def mean_and_stdev(values: list[float]) -> tuple[float, float]:
    """Population mean and standard deviation; (0, 0) for no values."""
    if not values:
        return 0.0, 0.0
    mean = sum(values) / len(values)
    variance = sum((v - mean) ** 2 for v in values) / len(values)
    return mean, math.sqrt(variance)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points on Earth, in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def first_digit(value: float) -> int | None:
    """The leading significant digit (1-9) of a non-zero amount, for Benford's law."""
    value = abs(value)
    if value == 0 or not math.isfinite(value):
        return None
    while value >= 10:
        value /= 10
    while value < 1:
        value *= 10
    return int(value)
