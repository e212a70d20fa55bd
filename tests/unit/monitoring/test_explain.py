"""An evaluation explained for a person: each rule's measured value and the band it fell in,
each typology against its thresholds, the event-flow condition that applied."""

from __future__ import annotations

from typing import Any

from core.monitoring.config import RuleConfig
from core.monitoring.explain import explain, number

RULE = RuleConfig.model_validate(
    {
        "id": "091@1.0.0",
        "cfg": "1.0.0",
        "desc": "Transaction amount vs the regulatory threshold",
        "config": {
            "exitConditions": [{"subRuleRef": ".x00", "reason": "no amount"}],
            "bands": [
                {"subRuleRef": ".01", "upperLimit": 100, "reason": "small"},
                {"subRuleRef": ".02", "lowerLimit": 100, "upperLimit": 500, "reason": "mid"},
                {"subRuleRef": ".04", "lowerLimit": 500, "reason": "reportable"},
            ],
        },
    }
)


def result(*rule_results: dict[str, Any], **adjudication: Any) -> dict[str, Any]:
    return {
        "rule_results": list(rule_results),
        "adjudication": {
            "typologies": [
                {
                    "id": "low@1",
                    "score": 100.0,
                    "alert_threshold": 200.0,
                    "interdiction_threshold": None,
                    "review": False,
                    "interdiction": False,
                    "terms": {"v091": 0.0},
                },
                {
                    "id": "hand@1",
                    "score": 400.0,
                    "alert_threshold": 200.0,
                    "interdiction_threshold": 350.0,
                    "review": True,
                    "interdiction": True,
                    "terms": {"v091": 300.0, "v001": 100.0},
                },
            ],
            "reasons": ["typology hand@1 scored 400 >= 350"],
            "blocked_by": None,
            "overridden_by": None,
            **adjudication,
        },
    }


def rule_result(outcome: str, value: Any, reason: str = "") -> dict[str, Any]:
    return {
        "id": "091@1.0.0",
        "cfg": "1.0.0",
        "sub_rule_ref": outcome,
        "indpdnt_varbl": value,
        "reason": reason,
    }


def test_each_rule_shows_its_value_and_the_band_it_fell_in() -> None:
    rules = {("091@1.0.0", "1.0.0"): RULE}
    explained = explain(
        result(
            rule_result(".04", 600_000_000.0, "reportable"),
            rule_result(".02", 250.5),
            rule_result(".01", 3),
            rule_result(".x00", None),
            rule_result(".err", None, "history unavailable"),
        ),
        "ALRT",
        True,
        rules,
    )
    assert [(r.outcome, r.measured, r.band) for r in explained.rules] == [
        (".04", "600,000,000", "value >= 500"),
        (".02", "250.50", "100 <= value < 500"),
        (".01", "3", "value < 100"),
        (".x00", "-", "exit condition: nothing to measure"),
        (".err", "-", "the rule failed"),
    ]
    assert explained.rules[0].description.startswith("Transaction amount")
    assert [r.failed for r in explained.rules] == [False, False, False, False, True]


def test_typologies_come_riskiest_first_against_their_thresholds() -> None:
    explained = explain(result(), "ALRT", True, {})
    assert [(t.typology, t.score, t.verdict) for t in explained.typologies] == [
        ("hand@1", 400.0, "interdiction"),
        ("low@1", 100.0, "below alert"),
    ]
    assert explained.typologies[0].interdiction_threshold == 350.0
    assert explained.typologies[0].terms == {"v091": 300.0, "v001": 100.0}
    assert explained.reasons == ("typology hand@1 scored 400 >= 350",)
    assert explained.conditions == ()


def test_the_condition_that_applied_is_named_with_its_effect() -> None:
    block = {
        "id": "cond-7",
        "cond_type": "non-overridable-block",
        "perspective": "debtor",
        "subject_kind": "account",
        "reason": "account under investigation",
    }
    [condition] = explain(result(blocked_by=block), "ALRT", True, {}).conditions
    assert (condition.condition, condition.subject, condition.reason) == (
        "cond-7",
        "debtor account",
        "account under investigation",
    )
    assert "interdicted whatever the scores" in condition.effect


def test_a_rule_whose_config_is_gone_still_shows_its_value() -> None:
    [line] = explain(result(rule_result(".04", 7)), "ALRT", True, {}).rules
    assert (line.measured, line.band) == ("7", "(its configuration is no longer stored)")


def test_numbers_read_as_people_write_them() -> None:
    assert (number(1234567), number(0.5), number(350.0)) == ("1,234,567", "0.50", "350")
