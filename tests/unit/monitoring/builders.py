"""Small configs for engine tests, in Tazama's JSON shape."""

from __future__ import annotations

from typing import Any

from core.monitoring.config import EventFlowCondition, RuleConfig, TypologyConfig


def rule_config(rule_id: str = "001@1.0.0", cfg: str = "1.0.0", **body: Any) -> RuleConfig:
    config: dict[str, Any] = {
        "exitConditions": [{"subRuleRef": ".x00", "reason": "Unsuccessful"}],
        "bands": [
            {"upperLimit": 10, "subRuleRef": ".01", "reason": "low"},
            {"lowerLimit": 10, "subRuleRef": ".02", "reason": "high"},
        ],
    }
    config.update(body)
    return RuleConfig.model_validate({"id": rule_id, "cfg": cfg, "config": config})


def weights(**by_ref: float) -> list[dict[str, Any]]:
    """weights(x00=0, _01=5, err=0) -> refs .x00, .01, .err (a leading _ makes a valid name)."""
    return [{"ref": "." + ref.lstrip("_"), "wght": w} for ref, w in by_ref.items()]


def typology(
    rules: list[dict[str, Any]],
    expression: dict[str, Any],
    alert: float = 100,
    interdict: float | None = None,
    typology_id: str = "typology-processor@1.0.0",
) -> TypologyConfig:
    workflow: dict[str, Any] = {"alertThreshold": alert}
    if interdict is not None:
        workflow["interdictionThreshold"] = interdict
    return TypologyConfig.model_validate(
        {
            "id": typology_id,
            "cfg": "1.0.0",
            "rules": rules,
            "expression": expression,
            "workflow": workflow,
        }
    )


def condition(cond_type: str, perspective: str = "debtor", **overrides: Any) -> EventFlowCondition:
    values: dict[str, Any] = {
        "id": f"cond-{cond_type}",
        "tenantId": "DEFAULT",
        "condTp": cond_type,
        "prsptv": perspective,
        "ntty": "account",
        "subjectId": "acc-debtor",
        "incptnDtTm": 0,
        "reason": f"{cond_type} by investigator",
    }
    values.update(overrides)
    return EventFlowCondition.model_validate(values)
