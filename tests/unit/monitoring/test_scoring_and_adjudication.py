"""Typology scores and the decision, computed by hand for small configs."""

from __future__ import annotations

import pytest

from core.monitoring.adjudication import adjudicate
from core.monitoring.results import ALERT, NO_ALERT, RuleResult, TypologyResult
from core.monitoring.scoring import score_typology
from tests.unit.monitoring.builders import condition, typology, weights
from tests.unit.rules.factory import NOW, tx

R1, R2 = ("001@1.0.0", "1.0.0"), ("002@1.0.0", "1.0.0")
TWO_RULES = [
    {"id": R1[0], "cfg": R1[1], "termId": "v001", "wghts": weights(_01=0, _02=100, err=50)},
    {"id": R2[0], "cfg": R2[1], "termId": "v002", "wghts": weights(_01=10, _02=200, err=50)},
]


def result(rule: tuple[str, str], ref: str) -> RuleResult:
    return RuleResult(id=rule[0], cfg=rule[1], sub_rule_ref=ref, reason="")


@pytest.mark.parametrize(
    ("expression", "refs", "expected"),
    [
        ({"operator": "Add", "terms": ["v001", "v002"]}, (".02", ".01"), 110),
        ({"operator": "Add", "terms": ["v001", "v002"]}, (".02", ".02"), 300),
        ({"operator": "Subtract", "terms": ["v002", "v001"]}, (".02", ".02"), 100),
        ({"operator": "Multiply", "terms": ["v001", 0.5]}, (".02", ".01"), 50),
        ({"operator": "Divide", "terms": ["v002", 4]}, (".01", ".02"), 50),
        (
            {"operator": "Add", "terms": ["v001", {"operator": "Multiply", "terms": ["v002", 2]}]},
            (".02", ".01"),
            120,
        ),
    ],
)
def test_scores_follow_the_expression(
    expression: dict[str, object], refs: tuple[str, str], expected: float
) -> None:
    config = typology(TWO_RULES, expression, alert=150, interdict=250)
    scored = score_typology(config, {R1: result(R1, refs[0]), R2: result(R2, refs[1])})
    assert scored.score == pytest.approx(expected)
    assert scored.review is (expected >= 150)
    assert scored.interdiction is (expected >= 250)


def test_threshold_is_inclusive() -> None:
    config = typology(TWO_RULES, {"operator": "Add", "terms": ["v001"]}, alert=100, interdict=100)
    scored = score_typology(config, {R1: result(R1, ".02"), R2: result(R2, ".01")})
    assert scored.score == 100 and scored.review and scored.interdiction


def test_a_missing_rule_result_counts_as_err() -> None:
    config = typology(TWO_RULES, {"operator": "Add", "terms": ["v001", "v002"]})
    scored = score_typology(config, {R1: result(R1, ".01")})
    assert scored.terms == {"v001": 0, "v002": 50}


def test_division_by_zero_is_reported_and_sent_for_review() -> None:
    config = typology(TWO_RULES, {"operator": "Divide", "terms": ["v002", "v001"]}, alert=100)
    scored = score_typology(config, {R1: result(R1, ".01"), R2: result(R2, ".02")})
    assert scored.error is not None and "division by zero" in scored.error
    assert scored.review


def typo_result(review: bool, interdiction: bool) -> TypologyResult:
    return TypologyResult("t@1", "1", 0, 100, 200, review, interdiction)


def test_no_alert_without_review_or_conditions() -> None:
    decision = adjudicate(tx(), [typo_result(False, False)], [])
    assert decision.status == NO_ALERT and not decision.interdicted


def test_review_alerts_and_interdiction_interdicts() -> None:
    assert adjudicate(tx(), [typo_result(True, False)], []).status == ALERT
    decision = adjudicate(tx(), [typo_result(True, True)], [])
    assert decision.status == ALERT and decision.interdicted


def test_block_interdicts_even_without_any_typology_alert() -> None:
    decision = adjudicate(tx(), [typo_result(False, False)], [condition("overridable-block")])
    assert decision.status == ALERT and decision.interdicted
    assert decision.blocked_by is not None


def test_override_suppresses_interdiction_but_not_the_alert() -> None:
    decision = adjudicate(tx(), [typo_result(True, True)], [condition("override")])
    assert decision.status == ALERT and not decision.interdicted
    assert decision.overridden_by is not None


def test_precedence_non_overridable_block_then_override_then_overridable_block() -> None:
    both = [condition("override"), condition("overridable-block")]
    assert not adjudicate(tx(), [typo_result(False, False)], both).interdicted
    strongest = [*both, condition("non-overridable-block")]
    decision = adjudicate(tx(), [typo_result(False, False)], strongest)
    assert decision.interdicted and decision.blocked_by is not None
    assert decision.blocked_by.cond_type == "non-overridable-block"


@pytest.mark.parametrize(
    ("overrides", "applies"),
    [
        ({}, True),
        ({"subjectId": "someone-else"}, False),
        ({"prsptv": "creditor"}, False),
        ({"prsptv": "creditor", "subjectId": "acc-creditor"}, True),
        ({"prsptv": "both", "subjectId": "acc-creditor"}, True),
        ({"ntty": "entity", "subjectId": "ent-debtor"}, True),
        ({"xprtnDtTm": NOW}, False),  # expired exactly at the transaction's time
        ({"incptnDtTm": NOW + 1}, False),  # not started yet
        ({"evtTp": ["pacs.008.001.10"]}, False),  # other message types only
        ({"tenantId": "OTHER"}, False),
    ],
)
def test_which_conditions_apply(overrides: dict[str, object], applies: bool) -> None:
    cond_type = "overridable-block"
    decision = adjudicate(tx(), [], [condition(cond_type, **overrides)])
    assert decision.interdicted is applies
