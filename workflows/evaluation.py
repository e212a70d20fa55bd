"""Transaction monitoring as Temporal workflows: route -> rules -> typologies -> event-flow
conditions -> decision -> persisted, each step durable, retried and timed out.

Two modes, one engine (core.monitoring.engine). Per transaction: the rules run in a local
activity, scoring and adjudication run here, in workflow code, so the operator sees every
step's result in the history. Micro-batch: the stream consumer's batches travel by
reference; one local activity runs the same steps next to the data and returns a summary,
because hundreds of rule results would bloat the history and slow every replay.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.monitoring.evaluate import EvaluationActivities
    from core.monitoring import engine
    from core.monitoring.ids import uuid7
    from core.monitoring.results import ALERT, NO_ALERT
    from core.monitoring.types import (
        EvaluationOutcome,
        EvaluationRequest,
        RuleStageBatch,
    )
    from core.temporal import search_attributes as sa

from workflows.cases import open_cases
from workflows.policies import RETRY, moved_to_local

STEP_TIMEOUT = timedelta(seconds=30)
BATCH_TIMEOUT = timedelta(minutes=2)


def _evaluation_id() -> str:
    """Deterministic in workflow code: the workflow's clock and random source."""
    return uuid7(int(workflow.now().timestamp() * 1000), workflow.random().getrandbits(80))


def _searchable(outcome: EvaluationOutcome) -> EvaluationOutcome:
    any_alert = ALERT in outcome.evaluated.values()
    workflow.upsert_search_attributes(
        [
            sa.STATUS.value_set(ALERT if any_alert else NO_ALERT),
            sa.SCORE.value_set(outcome.highest_score),
        ]
    )
    return outcome


# Unsandboxed, like the wallet's workflows: only deterministic code runs here (time and
# randomness come from `workflow`), and the sandbox's per-run module re-import would cost
# more worker CPU than a whole batch's orchestration.
@workflow.defn(name="EvaluateTransaction", sandboxed=False)
class EvaluateTransactionWorkflow:
    """One message, evaluated with local activities for latency."""

    @workflow.run
    async def run(self, request: EvaluationRequest) -> EvaluationOutcome:
        stage: RuleStageBatch = await workflow.execute_local_activity_method(
            EvaluationActivities.run_rules,
            request,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=RETRY,
        )
        info = workflow.info()
        evaluations = engine.evaluations(stage, _evaluation_id, info.workflow_id, info.run_id)
        await workflow.execute_local_activity_method(
            EvaluationActivities.persist,
            evaluations,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=RETRY,
        )
        await open_cases(request.tenant_id, [e.msg_id for e in evaluations if e.status == ALERT])
        return _searchable(
            EvaluationOutcome(
                evaluated={e.msg_id: e.status for e in evaluations},
                interdicted=[e.msg_id for e in evaluations if e.adjudication.interdicted],
                highest_score=engine.highest_score(evaluations),
                evaluations=evaluations,
            )
        )


@workflow.defn(name="EvaluateBatch", sandboxed=False)
class EvaluateBatchWorkflow:
    """A micro-batch of messages by reference, through the same steps in one activity."""

    @workflow.run
    async def run(self, request: EvaluationRequest) -> EvaluationOutcome:
        # A local activity: the batch is evaluated by the worker that took the workflow task,
        # without a round trip through the server's activity queue (fewer history events and
        # server work per batch). A worker lost mid-batch times the task out and the retry
        # evaluates again; persisting is idempotent by message id. Batches started before
        # this change replay the regular activity they recorded.
        evaluate = moved_to_local("evaluate-batch-locally")
        # The activity opens the alerts' cases too; batches recorded before started them
        # here, as child workflows, and replay so.
        opens_cases = workflow.patched("batch-opens-its-cases")
        outcome: EvaluationOutcome = await evaluate(
            EvaluationActivities.evaluate_batch,
            replace(request, open_cases=opens_cases),
            start_to_close_timeout=BATCH_TIMEOUT,
            retry_policy=RETRY,
        )
        if not opens_cases:
            alerts = [m for m, status in outcome.evaluated.items() if status == ALERT]
            await open_cases(request.tenant_id, alerts)
        return _searchable(outcome)
