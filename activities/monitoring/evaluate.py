"""The evaluation workflows' activities, each a step of the one monitoring pipeline
(`activities.monitoring.pipeline`).

The per-transaction workflow runs the rules (`run_rules`) and stores what it decided in
workflow code (`persist`); the micro-batch workflow runs every step in `evaluate_batch`.
Rules are pure and fast, so one activity runs them all for a batch after loading its
features with a few set-based queries; a rule that raises yields `.err`, never a failed
activity.
"""

from __future__ import annotations

import asyncio

from temporalio import activity

from activities.cases import CaseActivities
from activities.monitoring.pipeline import MonitoringPipeline
from activities.monitoring.prepared import PreparedBatch
from core.monitoring import engine
from core.monitoring.types import (
    Evaluation,
    EvaluationOutcome,
    EvaluationRequest,
    RuleStageBatch,
)

# A batch is decided and stored this many transactions at a time
STORE_EVERY = 32


class EvaluationActivities:
    def __init__(self, pipeline: MonitoringPipeline, cases: CaseActivities) -> None:
        self.pipeline = pipeline
        self.cases = cases
        self._deciding = asyncio.Lock()

    @activity.defn(name="monitoring.run_rules")
    async def run_rules(self, request: EvaluationRequest) -> RuleStageBatch:
        txs = await self.pipeline.accepted(request)
        return (await self.pipeline.prepare(request, txs)).stages(request.msg_ids)

    @activity.defn(name="monitoring.persist_evaluations")
    async def persist(self, evaluations: list[Evaluation]) -> list[str]:
        """Store each evaluation once and publish the alerts; the message ids stored now."""
        return await self.pipeline.store(evaluations)

    @activity.defn(name="monitoring.evaluate_batch")
    async def evaluate_batch(self, request: EvaluationRequest) -> EvaluationOutcome:
        """The micro-batch path: every step for every message, here, by reference.

        The batch is decided and stored a part at a time, the transactions that have waited
        longest first: each part's insert runs in the database while the next part's rules
        run here, and a payment's decision is committed without waiting for the whole batch.
        """
        txs = await self.pipeline.accepted(request)
        prepared = await self.pipeline.prepare(request, txs)
        info = activity.info()
        oldest_first = sorted(request.msg_ids, key=lambda msg_id: txs[msg_id].created_at_ms)
        evaluated = await self._decide_in_parts(prepared, oldest_first, info)
        if request.open_cases:
            # from the stored evaluations: a retry re-runs the rules, and history may have
            # changed since the first run stored its decisions
            await self.cases.open_with_workflows(request.tenant_id, request.msg_ids)
        return EvaluationOutcome(
            evaluated={e.msg_id: e.status for e in evaluated},
            interdicted=[e.msg_id for e in evaluated if e.adjudication.interdicted],
            highest_score=engine.highest_score(evaluated),
        )

    async def _decide_in_parts(
        self, prepared: PreparedBatch, msg_ids: list[str], info: activity.Info
    ) -> list[Evaluation]:
        evaluated: list[Evaluation] = []
        storing: list[asyncio.Task[list[str]]] = []
        # One batch's rules at a time, in the order the batches got here (the lock is fair):
        # batches taking turns part by part would each finish later, the older one with the
        # longest-waiting payments too. The last parts' inserts finish outside the lock.
        async with self._deciding:
            for start in range(0, len(msg_ids), STORE_EVERY):
                part = self.pipeline.decide(
                    prepared,
                    msg_ids[start : start + STORE_EVERY],
                    info.workflow_id or "",
                    info.workflow_run_id or "",
                )
                storing.append(asyncio.create_task(self.pipeline.store(part)))
                evaluated += part
                await asyncio.sleep(0)  # the insert goes out before the next part's rules run
        # Every part's insert runs to its end, so a decision stored is kept when another part
        # fails; the first failure is then the activity's error (what its retry policy and an
        # operator in the UI see), and the retry stores what is missing.
        for outcome in await asyncio.gather(*storing, return_exceptions=True):
            if isinstance(outcome, BaseException):
                raise outcome
        return evaluated
