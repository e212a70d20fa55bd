"""An evaluation explained for a person: each rule's outcome with its measured value and the
band it fell in, each typology's score against its thresholds, and the event-flow condition
that applied. Pure: it reads a stored evaluation's completed result and the rule configs it
used."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.monitoring.config import ERROR_OUTCOME, RuleConfig


@dataclass(frozen=True)
class RuleLine:
    rule: str  # id@version
    description: str
    outcome: str  # the subRuleRef
    reason: str
    measured: str  # the independent variable as measured, or "-"
    band: str  # where the value fell: "10 <= value < 100", an exit condition, a case
    failed: bool


@dataclass(frozen=True)
class TypologyLine:
    typology: str
    score: float
    alert_threshold: float
    interdiction_threshold: float | None
    verdict: str  # interdiction | alert | below alert
    terms: dict[str, float]
    error: str | None


@dataclass(frozen=True)
class ConditionLine:
    condition: str
    kind: str  # non-overridable-block | overridable-block | override
    subject: str  # e.g. "debtor account"
    reason: str
    effect: str


@dataclass(frozen=True)
class Explanation:
    status: str  # ALRT | NALT
    interdicted: bool
    reasons: tuple[str, ...]
    rules: tuple[RuleLine, ...]
    typologies: tuple[TypologyLine, ...]
    conditions: tuple[ConditionLine, ...]


def number(value: float) -> str:
    """A number as a person reads it: no needless decimals, thousands grouped."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _measured(value: float | str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, int | float):
        return number(value)
    return str(value)


def _band(config: RuleConfig | None, outcome: str) -> str:
    if outcome == ERROR_OUTCOME:
        return "the rule failed"
    if config is None:
        return "(its configuration is no longer stored)"
    body = config.config
    if any(o.sub_rule_ref == outcome for o in body.exit_conditions):
        return "exit condition: nothing to measure"
    for band in body.bands or ():
        if band.sub_rule_ref == outcome:
            low, high = band.lower_limit, band.upper_limit
            if low is not None and high is not None:
                return f"{number(low)} <= value < {number(high)}"
            if low is not None:
                return f"value >= {number(low)}"
            if high is not None:
                return f"value < {number(high)}"
            return "any value"
    if body.cases is not None:
        for expression in body.cases.expressions:
            if expression.sub_rule_ref == outcome:
                return f"value = {expression.value}"
        if body.cases.alternative.sub_rule_ref == outcome:
            return "no listed case matched"
    return "-"


def _verdict(typology: Mapping[str, Any]) -> str:
    if typology.get("interdiction"):
        return "interdiction"
    if typology.get("review"):
        return "alert"
    return "below alert"


_EFFECT = {
    "non-overridable-block": "blocked: the transaction is interdicted whatever the scores",
    "overridable-block": "blocked: the transaction is interdicted",
    "override": "typology interdictions suppressed (alerts remain)",
}


def _condition(hit: Mapping[str, Any]) -> ConditionLine:
    kind = str(hit.get("cond_type", ""))
    return ConditionLine(
        condition=str(hit.get("id", "")),
        kind=kind,
        subject=f"{hit.get('perspective', '')} {hit.get('subject_kind', '')}".strip(),
        reason=str(hit.get("reason", "")),
        effect=_EFFECT.get(kind, kind),
    )


def explain(
    result: Mapping[str, Any],
    status: str,
    interdicted: bool,
    rules: Mapping[tuple[str, str], RuleConfig],
) -> Explanation:
    """The stored evaluation's `result` (completed), status and interdiction, explained."""
    rule_lines = []
    for r in result.get("rule_results", ()):
        config = rules.get((r["id"], r["cfg"]))
        outcome = str(r.get("sub_rule_ref", ""))
        rule_lines.append(
            RuleLine(
                rule=str(r["id"]),
                description=config.desc if config else "",
                outcome=outcome,
                reason=str(r.get("reason", "")),
                measured=_measured(r.get("indpdnt_varbl")),
                band=_band(config, outcome),
                failed=outcome == ERROR_OUTCOME,
            )
        )
    adjudication = result.get("adjudication") or {}
    typologies = tuple(
        TypologyLine(
            typology=str(t["id"]),
            score=float(t["score"]),
            alert_threshold=float(t["alert_threshold"]),
            interdiction_threshold=(
                None
                if t.get("interdiction_threshold") is None
                else float(t["interdiction_threshold"])
            ),
            verdict=_verdict(t),
            terms={str(k): float(v) for k, v in (t.get("terms") or {}).items()},
            error=t.get("error"),
        )
        for t in sorted(adjudication.get("typologies", ()), key=lambda t: -float(t["score"]))
    )
    conditions = tuple(
        _condition(hit)
        for hit in (adjudication.get("blocked_by"), adjudication.get("overridden_by"))
        if hit
    )
    return Explanation(
        status=status,
        interdicted=interdicted,
        reasons=tuple(adjudication.get("reasons", ())),
        rules=tuple(rule_lines),
        typologies=typologies,
        conditions=conditions,
    )
