"""A batch made ready for its rules: routed, with the features and event-flow conditions
they read loaded. Running the rules is then pure, and can go a part of the batch at a time."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from activities.monitoring.rules.base import Needs, Rule, run_rule
from activities.monitoring.rules.catalogue import RULES
from core.monitoring.config import ERROR_OUTCOME, EventFlowCondition, RuleConfig, document
from core.monitoring.engine import TypologyIndex
from core.monitoring.results import RuleResult
from core.monitoring.transactions import Features, Transaction
from core.monitoring.types import RuleStage, RuleStageBatch, Unrouted


@dataclass(frozen=True)
class RoutePlan:
    """What a route runs, worked out once per (tenant, network map, message type)."""

    document: dict[str, Any]  # the sub-map snapshot stored with each evaluation
    rules: list[RuleConfig]  # each distinct (rule id, cfg) once
    typology_keys: frozenset[tuple[str, str]]
    needs: frozenset[Needs]  # the history its rules read

    @cached_property
    def implemented(self) -> list[tuple[RuleConfig, Rule | None]]:
        """Each rule config with the rule that implements it (None: none does), looked up
        once per plan rather than for every transaction."""
        return [(config, RULES.get(config.rule_code)) for config in self.rules]


@dataclass(frozen=True)
class Routed:
    tx: Transaction
    plan: RoutePlan


@dataclass(frozen=True)
class PreparedBatch:
    network_map_cfg: str  # "" when the tenant has no active network map
    typologies: TypologyIndex  # every typology the routes reach
    routed: dict[str, Routed]  # by message id
    unrouted: list[Unrouted]
    features: dict[str, Features]  # by message id, for the routed
    conditions: list[EventFlowCondition]  # on any party of the routed
    timings_ms: dict[str, float]  # routing and feature loading, for the whole batch

    def stages(self, msg_ids: Sequence[str]) -> RuleStageBatch:
        """Run the rules of these transactions (of the batch)."""
        wanted = set(msg_ids)
        return RuleStageBatch(
            network_map_cfg=self.network_map_cfg,
            typologies=self._typology_documents,
            stages=[self._stage(self.routed[m]) for m in msg_ids if m in self.routed],
            unrouted=[u for u in self.unrouted if u.tx.msg_id in wanted],
        )

    @cached_property
    def _typology_documents(self) -> list[dict[str, Any]]:
        return [document(config) for config in self.typologies.values()]

    def _stage(self, routed: Routed) -> RuleStage:
        tx = routed.tx
        started = time.perf_counter()
        results = _evaluate_rules(tx, routed.plan.implemented, self.features[tx.msg_id])
        own = {tx.debtor_account, tx.creditor_account, tx.debtor_entity, tx.creditor_entity}
        return RuleStage(
            tx=tx,
            route=routed.plan.document,
            results=results,
            conditions=[document(c) for c in self.conditions if c.subject_id in own],
            timings_ms=self.timings_ms | {"rules_ms": (time.perf_counter() - started) * 1000},
        )


def _evaluate_rules(
    tx: Transaction, implemented: list[tuple[RuleConfig, Rule | None]], features: Features
) -> list[RuleResult]:
    results = []
    for config, rule in implemented:
        if rule is None:
            results.append(
                RuleResult(config.id, config.cfg, ERROR_OUTCOME, f"no rule implements {config.id}")
            )
            continue
        results.append(run_rule(rule, config, tx, features))
    return results
