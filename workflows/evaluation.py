"""Transaction monitoring as Temporal workflows: route -> rules -> typologies -> event-flow
conditions -> decision -> persisted, each step durable, retried, timed out and visible.

Two modes share `_evaluate`: one workflow per transaction (local activities, for kiosk
payments and low volume) and one per micro-batch (the stream consumer's batches, by
reference). Scoring and adjudication are pure and run here, so their results are in the
workflow's history for the operator.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from saku.domain.evaluation import (
        PERSIST_EVALUATIONS,
        RUN_RULES,
        Evaluation,
        EvaluationOutcome,
        EvaluationRequest,
        RuleStage,
        RuleStageBatch,
        Unrouted,
    )
    from saku.monitoring.adjudication import adjudicate
    from saku.monitoring.config import EventFlowCondition, TypologyConfig
    from saku.monitoring.ids import uuid7
    from saku.monitoring.results import ALERT, NO_ALERT, Adjudication
    from saku.monitoring.scoring import score_typology
    from saku.temporal import search_attributes as sa

# Storage outages are retried for minutes, not forever: an evaluation always finishes,
# and a failed one is visible in the UI with its error.
RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=20)
STEP_TIMEOUT = timedelta(seconds=30)


def _evaluation(stage: RuleStage, batch: RuleStageBatch, decision: Adjudication) -> Evaluation:
    info = workflow.info()
    return Evaluation(
        evaluation_id=uuid7(
            int(workflow.now().timestamp() * 1000), workflow.random().getrandbits(80)
        ),
        tenant_id=stage.tx.tenant_id,
        msg_id=stage.tx.msg_id,
        end_to_end_id=stage.tx.end_to_end_id,
        tx_type=stage.tx.tx_type,
        network_map_cfg=batch.network_map_cfg,
        route=stage.route,
        rule_results=stage.results,
        adjudication=decision,
        workflow_id=info.workflow_id,
        run_id=info.run_id,
        timings_ms=stage.timings_ms,
    )


def _decide(stage: RuleStage, typologies: dict[tuple[str, str], TypologyConfig]) -> Adjudication:
    results = {(r.id, r.cfg): r for r in stage.results}
    scored = [
        score_typology(typologies[(t["id"], t["cfg"])], results) for t in stage.route["typologies"]
    ]
    conditions = [EventFlowCondition.model_validate(c) for c in stage.conditions]
    return adjudicate(stage.tx, scored, conditions)


def _unrouted(item: Unrouted, batch: RuleStageBatch) -> Evaluation:
    decision = Adjudication(
        status=ALERT if item.alert else NO_ALERT,
        interdicted=False,
        blocked_by=None,
        overridden_by=None,
        typologies=(),
        reasons=(item.reason,),
    )
    return _evaluation(RuleStage(item.tx, {}, [], []), batch, decision)


async def _evaluate(request: EvaluationRequest, *, local: bool) -> EvaluationOutcome:
    if local:
        batch: RuleStageBatch = await workflow.execute_local_activity(
            RUN_RULES, request, result_type=RuleStageBatch,
            start_to_close_timeout=STEP_TIMEOUT, retry_policy=RETRY,
        )  # fmt: skip
    else:
        batch = await workflow.execute_activity(
            RUN_RULES, request, result_type=RuleStageBatch,
            start_to_close_timeout=STEP_TIMEOUT, retry_policy=RETRY,
        )  # fmt: skip
    typologies = {(t["id"], t["cfg"]): TypologyConfig.model_validate(t) for t in batch.typologies}
    evaluations = [_evaluation(s, batch, _decide(s, typologies)) for s in batch.stages]
    evaluations += [_unrouted(u, batch) for u in batch.unrouted]
    if local:
        await workflow.execute_local_activity(
            PERSIST_EVALUATIONS, evaluations, result_type=list[str],
            start_to_close_timeout=STEP_TIMEOUT, retry_policy=RETRY,
        )  # fmt: skip
    else:
        await workflow.execute_activity(
            PERSIST_EVALUATIONS, evaluations, result_type=list[str],
            start_to_close_timeout=STEP_TIMEOUT, retry_policy=RETRY,
        )  # fmt: skip
    scores = [t.score for e in evaluations for t in e.adjudication.typologies]
    outcome = EvaluationOutcome(
        evaluated={e.msg_id: e.status for e in evaluations},
        interdicted=[e.msg_id for e in evaluations if e.adjudication.interdicted],
        highest_score=max(scores, default=0.0),
        evaluations=evaluations,
    )
    any_alert = ALERT in outcome.evaluated.values()
    workflow.upsert_search_attributes(
        [
            sa.STATUS.value_set(ALERT if any_alert else NO_ALERT),
            sa.SCORE.value_set(outcome.highest_score),
        ]
    )
    return outcome


@workflow.defn(name="EvaluateTransaction")
class EvaluateTransactionWorkflow:
    """One message, evaluated with local activities for latency."""

    @workflow.run
    async def run(self, request: EvaluationRequest) -> EvaluationOutcome:
        return await _evaluate(request, local=True)


@workflow.defn(name="EvaluateBatch")
class EvaluateBatchWorkflow:
    """A micro-batch of messages by reference, through the same steps."""

    @workflow.run
    async def run(self, request: EvaluationRequest) -> EvaluationOutcome:
        return await _evaluate(request, local=False)
