"""The evaluation's side effects: route, load features, run rules; persist and publish.

Routing picks the active network map's entry for the transaction's TxTp and runs each
distinct (rule id, cfg) once. Rules are pure and fast, so one activity runs them all for a
batch after loading its features with a few set-based queries; a rule that raises yields
`.err`, never a failed activity. Typology scoring and adjudication happen in the workflow.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.cases import CaseActivities
from activities.monitoring.alerts import AlertPublisher
from activities.monitoring.config_store import ActiveConfig, ConfigStore
from activities.monitoring.features import DEFAULT_BALANCE_CAP, FeatureLoader
from activities.monitoring.history import HistoryStore
from activities.monitoring.stored_evaluations import evaluation_rows
from activities.rules.base import Needs, Rule, run_rule
from activities.rules.catalogue import RULES
from saku.db import Pool
from saku.domain.evaluation import (
    EVALUATE_BATCH,
    PERSIST_EVALUATIONS,
    RUN_RULES,
    Evaluation,
    EvaluationOutcome,
    EvaluationRequest,
    RuleStage,
    RuleStageBatch,
    Unrouted,
)
from saku.domain.transactions import MS_PER_DAY, Features, Transaction
from saku.monitoring import engine
from saku.monitoring.config import ERROR_OUTCOME, MessageRoute, RuleConfig, document
from saku.monitoring.ids import new_evaluation_id
from saku.monitoring.results import ALERT, RuleResult

log = logging.getLogger(__name__)
DEFAULT_WINDOW_MS = 90 * MS_PER_DAY


def _window_ms(active: ActiveConfig) -> int:
    """The longest history any active rule asks for (its maxQueryRange), at least 90 days."""
    ranges = [int(c.config.parameters.get("maxQueryRange", 0) or 0) for c in active.rules.values()]
    return max([DEFAULT_WINDOW_MS, *ranges])


def _evaluate_rules(
    tx: Transaction, rule_configs: list[RuleConfig], features: Features
) -> list[RuleResult]:
    results = []
    for config in rule_configs:
        rule: Rule | None = RULES.get(config.rule_code)
        if rule is None:
            results.append(
                RuleResult(config.id, config.cfg, ERROR_OUTCOME, f"no rule implements {config.id}")
            )
            continue
        results.append(run_rule(rule, config, tx, features))
    return results


@dataclass(frozen=True)
class RoutePlan:
    document: dict[str, Any]  # the sub-map snapshot stored with each evaluation
    rules: list[RuleConfig]  # each distinct (rule id, cfg) once
    typology_keys: frozenset[tuple[str, str]]
    needs: frozenset[Needs]  # the history its rules read


class EvaluationActivities:
    def __init__(
        self,
        pool: Pool,
        history: HistoryStore,
        alerts: AlertPublisher,
        default_balance_cap: Decimal = DEFAULT_BALANCE_CAP,
    ) -> None:
        self.pool = pool
        self.history = history
        self.configs = ConfigStore(pool)
        self.features = FeatureLoader(pool, default_balance_cap=default_balance_cap)
        self.publish_alert = alerts
        self.cases = CaseActivities(pool)
        # the active configuration per tenant, reloaded when another network map is activated
        self._active: dict[str, ActiveConfig] = {}
        self._plans: dict[tuple[str, str, str], RoutePlan] = {}

    def _plan(self, tenant: str, active: ActiveConfig, route: MessageRoute) -> RoutePlan:
        """What a route runs, worked out once per (tenant, network map, message type)."""
        key = (tenant, active.network_map.cfg, route.tx_tp)
        plan = self._plans.get(key)
        if plan is None:
            rule_keys = dict.fromkeys((r.id, r.cfg) for t in route.typologies for r in t.rules)
            rules = [active.rules[k] for k in rule_keys]
            implemented = [RULES[c.rule_code] for c in rules if c.rule_code in RULES]
            plan = self._plans[key] = RoutePlan(
                document=document(route),
                rules=rules,
                typology_keys=frozenset((t.id, t.cfg) for t in route.typologies),
                needs=frozenset(need for rule in implemented for need in rule.needs),
            )
        return plan

    async def _active_config(self, tenant: str) -> ActiveConfig | None:
        cfg = await self.configs.active_cfg(tenant)
        if cfg is None:
            return None
        cached = self._active.get(tenant)
        if cached is None or cached.network_map.cfg != cfg:
            loaded = await self.configs.load_active(tenant)
            if loaded is None:  # deactivated between the two reads: try again
                raise ApplicationError("network map changed during load", type="Retry")
            cached = self._active[tenant] = loaded
        return cached

    @activity.defn(name=RUN_RULES)
    async def run_rules(self, request: EvaluationRequest) -> RuleStageBatch:
        txs = await self.history.load(request.tenant_id, request.msg_ids)
        missing = sorted(set(request.msg_ids) - set(txs))
        if missing:
            raise ApplicationError(
                f"messages {missing[:5]} were never accepted", non_retryable=True
            )
        return await self.rule_stage(request, txs)

    async def rule_stage(
        self, request: EvaluationRequest, txs: dict[str, Transaction]
    ) -> RuleStageBatch:
        """Route, load features and run rules for accepted transactions already in hand."""
        started = time.perf_counter()
        active = await self._active_config(request.tenant_id)
        if active is None:
            reason = (
                f"not evaluated: tenant {request.tenant_id!r} has no active network map "
                "(import and activate one with `saku config import`)"
            )
            unrouted = [Unrouted(txs[m], reason, alert=True) for m in request.msg_ids]
            return RuleStageBatch("", [], [], unrouted)
        routed: list[tuple[Transaction, dict[str, Any], list[RuleConfig]]] = []
        unrouted = []
        typology_keys: set[tuple[str, str]] = set()
        needs: set[Needs] = set()
        for msg_id in request.msg_ids:
            tx = txs[msg_id]
            route = active.network_map.route(tx.tx_type)
            if route is None:
                reason = f"network map {active.network_map.cfg} routes no {tx.tx_type} messages"
                unrouted.append(Unrouted(tx, reason, alert=False))
                continue
            plan = self._plan(request.tenant_id, active, route)
            typology_keys |= plan.typology_keys
            needs |= plan.needs
            routed.append((tx, plan.document, plan.rules))
        loaded = time.perf_counter()
        features = await self.features.load(
            request.tenant_id, [tx for tx, _, _ in routed], _window_ms(active), frozenset(needs)
        )
        featured = time.perf_counter()
        subjects = sorted(
            {s for tx, _, _ in routed for s in (tx.debtor_account, tx.creditor_account,
                                                tx.debtor_entity, tx.creditor_entity)}
        )  # fmt: skip
        conditions = await self.configs.conditions_for(request.tenant_id, subjects)
        stages = []
        for tx, route_document, rule_configs in routed:
            rules_started = time.perf_counter()
            results = _evaluate_rules(tx, rule_configs, features[tx.msg_id])
            own = {tx.debtor_account, tx.creditor_account, tx.debtor_entity, tx.creditor_entity}
            stages.append(
                RuleStage(
                    tx=tx,
                    route=route_document,
                    results=results,
                    conditions=[document(c) for c in conditions if c.subject_id in own],
                    timings_ms={
                        "route_ms": (loaded - started) * 1000,
                        "features_ms": (featured - loaded) * 1000,
                        "rules_ms": (time.perf_counter() - rules_started) * 1000,
                    },
                )
            )
        return RuleStageBatch(
            network_map_cfg=active.network_map.cfg,
            typologies=[document(active.typologies[key]) for key in sorted(typology_keys)],
            stages=stages,
            unrouted=unrouted,
        )

    @activity.defn(name=EVALUATE_BATCH)
    async def evaluate_batch(self, request: EvaluationRequest) -> EvaluationOutcome:
        """The micro-batch path: every step for every message, here, by reference."""
        stage = await self.run_rules(request)
        info = activity.info()
        evaluations = engine.evaluations(
            stage,
            new_evaluation_id,
            info.workflow_id or "",
            info.workflow_run_id or "",
        )
        await self.persist(evaluations)
        if request.open_cases:
            # from the stored evaluations: a retry re-runs the rules, and history may have
            # changed since the first run stored its decisions
            await self.cases.open_with_workflows(request.tenant_id, request.msg_ids)
        return EvaluationOutcome(
            evaluated={e.msg_id: e.status for e in evaluations},
            interdicted=[e.msg_id for e in evaluations if e.adjudication.interdicted],
            highest_score=engine.highest_score(evaluations),
        )

    @activity.defn(name=PERSIST_EVALUATIONS)
    async def persist(self, evaluations: list[Evaluation]) -> list[str]:
        """Store each evaluation once (a re-run finds it stored and changes nothing) and
        publish the alerts; returns the message ids stored now."""
        if not evaluations:
            return []
        rows = evaluation_rows(evaluations)
        async with self.pool.connection() as conn:
            # one JSON document for the batch: psycopg builds big array parameters slowly
            cur = await conn.execute(
                """INSERT INTO evaluations (evaluation_id, tenant_id, msg_id, end_to_end_id,
                       tx_type, status, interdicted, network_map_cfg, workflow_id, run_id, result)
                   SELECT evaluation_id, tenant_id, msg_id, end_to_end_id, tx_type, status,
                          interdicted, network_map_cfg, workflow_id, run_id, result
                   FROM jsonb_to_recordset(%s::jsonb) AS r(evaluation_id uuid, tenant_id text,
                       msg_id text, end_to_end_id text, tx_type text, status text,
                       interdicted boolean, network_map_cfg text, workflow_id text, run_id text,
                       result jsonb)
                   ON CONFLICT (tenant_id, msg_id) DO NOTHING
                   RETURNING msg_id""",
                (rows,),
            )
            stored = {r["msg_id"] for r in await cur.fetchall()}
        # Alerts are published after the commit: a crash in between re-runs the activity,
        # which finds the evaluation stored; so alerts are at-least-once (keyed by message id).
        for evaluation in evaluations:
            if evaluation.status == ALERT:
                await self.publish_alert(
                    evaluation.tenant_id,
                    f"{evaluation.tenant_id}:{evaluation.msg_id}".encode(),
                    orjson.dumps(_alert(evaluation)),
                )
        return sorted(stored)


def _alert(evaluation: Evaluation) -> dict[str, object]:
    decision = evaluation.adjudication
    return {
        "evaluationId": evaluation.evaluation_id,
        "tenantId": evaluation.tenant_id,
        "msgId": evaluation.msg_id,
        "endToEndId": evaluation.end_to_end_id,
        "txTp": evaluation.tx_type,
        "status": decision.status,
        "interdicted": decision.interdicted,
        "typologies": [
            {"id": t.id, "cfg": t.cfg, "score": t.score, "review": t.review,
             "interdiction": t.interdiction}
            for t in decision.typologies
        ],
        "reasons": list(decision.reasons),
        "workflowId": evaluation.workflow_id,
    }  # fmt: skip
