"""Typology scoring: each rule outcome's weight becomes a term; the typology's expression
over those terms is its score. Pure, so it runs inside workflow code."""

from __future__ import annotations

from collections.abc import Mapping

from core.monitoring.config import ERROR_OUTCOME, Expression, TypologyConfig
from core.monitoring.results import RuleResult, TypologyResult


class ScoringError(ArithmeticError):
    pass


def _evaluate(expression: Expression, terms: Mapping[str, float]) -> float:
    values = [
        terms[t] if isinstance(t, str) else _evaluate(t, terms) if isinstance(t, Expression) else t
        for t in expression.terms
    ]
    result = float(values[0])
    for value in values[1:]:
        match expression.operator:
            case "Add":
                result += value
            case "Subtract":
                result -= value
            case "Multiply":
                result *= value
            case "Divide":
                if value == 0:
                    raise ScoringError("division by zero in the typology expression")
                result /= value
    return result


def score_typology(
    typology: TypologyConfig, results: Mapping[tuple[str, str], RuleResult]
) -> TypologyResult:
    """Score one typology from the rule results keyed by (rule id, cfg).

    A rule with no result (it timed out or failed to report) counts with its `.err` weight,
    so a missing answer can never silently lower a score to "no alert".
    """
    terms: dict[str, float] = {}
    for rule in typology.rules:
        result = results.get((rule.id, rule.cfg))
        outcome = result.sub_rule_ref if result is not None else ERROR_OUTCOME
        weights = rule.weight_of
        terms[rule.term_id] = weights.get(outcome, weights.get(ERROR_OUTCOME, 0.0))
    workflow = typology.workflow
    try:
        score = _evaluate(typology.expression, terms)
        error = None
    except ScoringError as err:
        # fail safe: a typology that cannot be scored is put in front of an operator
        score, error = workflow.alert_threshold, str(err)
    interdiction = (
        workflow.interdiction_threshold is not None and score >= workflow.interdiction_threshold
    )
    return TypologyResult(
        id=typology.id,
        cfg=typology.cfg,
        score=score,
        alert_threshold=workflow.alert_threshold,
        interdiction_threshold=workflow.interdiction_threshold,
        review=score >= workflow.alert_threshold,
        interdiction=interdiction,
        terms=terms,
        error=error,
    )
