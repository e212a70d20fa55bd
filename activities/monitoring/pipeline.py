"""The monitoring engine's steps, assembled once: route by the tenant's active network map
-> load the features its rules read -> rules -> typology scores -> event-flow conditions and
adjudication -> each evaluation stored once -> alerts published.

Three callers share it. The per-transaction workflow runs `prepare` and `store` as
activities and scores and adjudicates in workflow code (`core.monitoring.engine`), so every
step is in its history; the micro-batch activity runs every step here, next to the data; and
the wallet screens a purchase or a top-up with `screen`, which it is given by the registry.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import orjson
from temporalio.exceptions import ApplicationError

from activities.monitoring.alerts import AlertPublisher
from activities.monitoring.config_store import ActiveConfig, ConfigStore
from activities.monitoring.features import DEFAULT_BALANCE_CAP, FeatureLoader
from activities.monitoring.history import HistoryStore, Incoming
from activities.monitoring.prepared import PreparedBatch, Routed, RoutePlan
from activities.monitoring.rules.base import Needs
from activities.monitoring.rules.catalogue import RULES
from activities.monitoring.stored_evaluations import evaluation_rows
from core.db import Pool
from core.monitoring import engine
from core.monitoring.config import MessageRoute, document
from core.monitoring.ids import evaluation_id_now
from core.monitoring.results import ALERT
from core.monitoring.transactions import MS_PER_DAY, Transaction
from core.monitoring.types import Evaluation, EvaluationRequest, Unrouted

DEFAULT_WINDOW_MS = 90 * MS_PER_DAY


@dataclass(frozen=True)
class Verdict:
    """What a screened movement's evaluation decided."""

    evaluation_id: str
    status: str  # ALRT | NALT
    interdicted: bool
    score: float = 0.0  # the highest typology score (the Temporal UI's SakuScore)


class Screen(Protocol):
    """Evaluate one movement of money before it settles (what the wallet is given)."""

    async def __call__(
        self, tx: Transaction, document: str, channel: str, workflow_id: str, run_id: str
    ) -> Verdict: ...


def _window_ms(active: ActiveConfig) -> int:
    """The longest history any active rule asks for (its maxQueryRange), at least 90 days."""
    ranges = [int(c.config.parameters.get("maxQueryRange", 0) or 0) for c in active.rules.values()]
    return max([DEFAULT_WINDOW_MS, *ranges])


class MonitoringPipeline:
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

    async def accepted(self, request: EvaluationRequest) -> dict[str, Transaction]:
        txs = await self.history.load(request.tenant_id, request.msg_ids)
        missing = sorted(set(request.msg_ids) - set(txs))
        if missing:
            raise ApplicationError(
                f"messages {missing[:5]} were never accepted", non_retryable=True
            )
        return txs

    async def prepare(
        self, request: EvaluationRequest, txs: dict[str, Transaction]
    ) -> PreparedBatch:
        """Route the transactions and load what their rules read: features and conditions."""
        started = time.perf_counter()
        active = await self._active_config(request.tenant_id)
        if active is None:
            reason = (
                f"not evaluated: tenant {request.tenant_id!r} has no active network map "
                "(import and activate one with `saku config import`)"
            )
            unrouted = [Unrouted(txs[m], reason, alert=True) for m in request.msg_ids]
            return PreparedBatch("", {}, {}, unrouted, {}, [], {})
        routed: dict[str, Routed] = {}
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
            routed[msg_id] = Routed(tx, plan)
        loaded = time.perf_counter()
        features = await self.features.load(
            request.tenant_id,
            [r.tx for r in routed.values()],
            _window_ms(active),
            frozenset(needs),
        )
        featured = time.perf_counter()
        subjects = sorted(
            {
                s
                for r in routed.values()
                for s in (
                    r.tx.debtor_account,
                    r.tx.creditor_account,
                    r.tx.debtor_entity,
                    r.tx.creditor_entity,
                )
            }
        )
        return PreparedBatch(
            network_map_cfg=active.network_map.cfg,
            typologies={key: active.typologies[key] for key in sorted(typology_keys)},
            routed=routed,
            unrouted=unrouted,
            features=features,
            conditions=await self.configs.conditions_for(request.tenant_id, subjects),
            timings_ms={
                "route_ms": (loaded - started) * 1000,
                "features_ms": (featured - loaded) * 1000,
            },
        )

    def decide(
        self, prepared: PreparedBatch, msg_ids: list[str], workflow_id: str, run_id: str
    ) -> list[Evaluation]:
        """Rules, typology scores and adjudication for these of the prepared messages."""
        return engine.evaluations(
            prepared.stages(msg_ids), evaluation_id_now, workflow_id, run_id, prepared.typologies
        )

    async def store(self, evaluations: list[Evaluation]) -> list[str]:
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

    async def screen(
        self, tx: Transaction, document: str, channel: str, workflow_id: str, run_id: str
    ) -> Verdict:
        """One movement of money (a kiosk purchase, a top-up): recorded in the history, then
        every step. A retry finds the first attempt's evaluation stored, and that one counts."""
        await self.history.accept([Incoming(tx, document, channel)])
        request = EvaluationRequest(tx.tenant_id, [tx.msg_id])
        prepared = await self.prepare(request, {tx.msg_id: tx})
        [evaluation] = self.decide(prepared, [tx.msg_id], workflow_id, run_id)
        if await self.store([evaluation]) == [tx.msg_id]:
            return Verdict(
                evaluation.evaluation_id,
                evaluation.status,
                evaluation.adjudication.interdicted,
                engine.highest_score([evaluation]),
            )
        return await self._stored_verdict(tx.tenant_id, tx.msg_id)

    async def _stored_verdict(self, tenant: str, msg_id: str) -> Verdict:
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT evaluation_id, status, interdicted, COALESCE((SELECT"
                    " max((t->>'score')::float8) FROM jsonb_array_elements("
                    "result->'adjudication'->'typologies') t), 0) AS score"
                    " FROM evaluations WHERE tenant_id = %s AND msg_id = %s",
                    (tenant, msg_id),
                )
            ).fetchone()
        assert row is not None, "stored by the first attempt"
        return Verdict(
            str(row["evaluation_id"]), row["status"], row["interdicted"], float(row["score"])
        )


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
            {
                "id": t.id,
                "cfg": t.cfg,
                "score": t.score,
                "review": t.review,
                "interdiction": t.interdiction,
            }
            for t in decision.typologies
        ],
        "reasons": list(decision.reasons),
        "workflowId": evaluation.workflow_id,
    }
