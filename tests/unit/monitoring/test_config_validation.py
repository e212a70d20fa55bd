"""Configurations are validated on write, with errors that say what to fix."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.monitoring.classify import classify
from core.monitoring.config import (
    ConfigError,
    NetworkMap,
    check_network_map,
    check_typology_weights,
)
from tests.unit.monitoring.builders import rule_config, typology, weights


def test_a_rule_config_needs_bands_or_cases_but_not_both() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        rule_config(bands=None)
    with pytest.raises(ValidationError, match="exactly one"):
        rule_config(
            cases={
                "expressions": [{"value": "a", "subRuleRef": ".01", "reason": "a"}],
                "alternative": {"subRuleRef": ".02", "reason": "other"},
            }
        )


def test_overlapping_or_inverted_bands_are_refused() -> None:
    with pytest.raises(ValidationError, match="overlap"):
        rule_config(
            bands=[
                {"upperLimit": 10, "subRuleRef": ".01", "reason": "a"},
                {"lowerLimit": 5, "subRuleRef": ".02", "reason": "b"},
            ]
        )
    with pytest.raises(ValidationError, match="below upperLimit"):
        rule_config(bands=[{"lowerLimit": 5, "upperLimit": 5, "subRuleRef": ".01", "reason": "a"}])


def test_zero_is_a_real_limit() -> None:
    config = rule_config(
        bands=[
            {"upperLimit": 0, "subRuleRef": ".01", "reason": "negative"},
            {"lowerLimit": 0, "subRuleRef": ".02", "reason": "zero or more"},
        ]
    )
    assert config.config.bands is not None
    assert config.config.bands[0].upper_limit == 0
    assert classify(0, config.config).sub_rule_ref == ".02"  # lower limits are inclusive
    assert classify(-0.01, config.config).sub_rule_ref == ".01"


def test_a_typology_must_weight_every_outcome_including_err() -> None:
    rule = rule_config()
    rules = {(rule.id, rule.cfg): rule}
    incomplete = typology(
        [
            {
                "id": rule.id,
                "cfg": rule.cfg,
                "termId": "v001",
                "wghts": weights(x00=0, _01=0, _02=100),
            }
        ],
        {"operator": "Add", "terms": ["v001"]},
    )
    with pytest.raises(ConfigError, match=r"no weight for outcome\(s\) \.err"):
        check_typology_weights(incomplete, rules)
    complete = typology(
        [
            {
                "id": rule.id,
                "cfg": rule.cfg,
                "termId": "v001",
                "wghts": weights(x00=0, _01=0, _02=100, err=0),
            }
        ],
        {"operator": "Add", "terms": ["v001"]},
    )
    check_typology_weights(complete, rules)


def test_a_typology_expression_may_only_use_declared_terms() -> None:
    with pytest.raises(ValidationError, match="undeclared term"):
        typology(
            [{"id": "001@1.0.0", "cfg": "1.0.0", "termId": "v001", "wghts": weights(err=0)}],
            {"operator": "Add", "terms": ["v001", "v999"]},
        )


def test_interdiction_threshold_cannot_be_below_alert() -> None:
    with pytest.raises(ValidationError, match="interdictionThreshold"):
        typology(
            [{"id": "001@1.0.0", "cfg": "1.0.0", "termId": "v001", "wghts": weights(err=0)}],
            {"operator": "Add", "terms": ["v001"]},
            alert=200,
            interdict=100,
        )


def test_a_network_map_must_name_existing_configs() -> None:
    rule = rule_config()
    typo = typology(
        [
            {
                "id": rule.id,
                "cfg": rule.cfg,
                "termId": "v001",
                "wghts": weights(x00=0, _01=0, _02=100, err=0),
            }
        ],
        {"operator": "Add", "terms": ["v001"]},
    )
    network_map = NetworkMap.model_validate(
        {
            "cfg": "1.0.0",
            "messages": [
                {
                    "id": "004@1.0.0",
                    "cfg": "1.0.0",
                    "txTp": "pacs.002.001.12",
                    "typologies": [
                        {
                            "id": typo.id,
                            "cfg": typo.cfg,
                            "rules": [{"id": rule.id, "cfg": rule.cfg}],
                        }
                    ],
                }
            ],
        }
    )
    check_network_map(network_map, {(rule.id, rule.cfg): rule}, {(typo.id, typo.cfg): typo})
    with pytest.raises(ConfigError, match="not found"):
        check_network_map(network_map, {}, {(typo.id, typo.cfg): typo})
    with pytest.raises(ConfigError, match="typology"):
        check_network_map(network_map, {(rule.id, rule.cfg): rule}, {})


def test_a_network_map_routes_each_message_type_once() -> None:
    typologies = [{"id": "t", "cfg": "1", "rules": [{"id": "r", "cfg": "1"}]}]
    route = {"id": "004@1.0.0", "cfg": "1.0.0", "txTp": "pacs.002.001.12", "typologies": typologies}
    with pytest.raises(ValidationError, match="more than once"):
        NetworkMap.model_validate({"cfg": "1.0.0", "messages": [route, route]})
