"""An alert's case: opened when an evaluation alerts, decided by an operator (a signal from
the API), escalated if nobody decides within the service level. A decision on an interdicted
transaction needs a second person, a supervisor, to confirm it (four-eyes): the case waits
for the confirmation, escalated if none comes within the service level. Alerting workflows start it
as an abandoned child, so the case outlives them; a stream's batch starts it with its first
task delayed by the service level (see `activities.cases`), so that until an operator's
decision or the escalation the case costs the server one write and the worker nothing.
A tenant that hands its alerts off to its SIEM has its cases started at once, and each
sends its alert as it opens (`workflows.alert_handoff`)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from activities.cases import CaseActivities
    from core.cases import (
        CASE_WORKFLOW,
        CONFIRM_SIGNAL,
        DECIDE_SIGNAL,
        CaseConfirmation,
        CaseDecision,
        CaseOpening,
        CaseRequest,
        ConfirmCase,
        DecideCase,
        case_workflow_id,
    )
    from core.temporal import search_attributes as sa

from workflows.alert_handoff import hand_off
from workflows.policies import RETRY, moved_to_local, search_by_status

STEP = timedelta(seconds=30)


@workflow.defn(name=CASE_WORKFLOW, sandboxed=False)
class CaseWorkflow:
    def __init__(self) -> None:
        self._decision: CaseDecision | None = None
        self._confirmation: CaseConfirmation | None = None

    @workflow.signal(name=DECIDE_SIGNAL)
    def decide(self, decision: CaseDecision) -> None:
        if self._decision is None:  # the first decision stands
            self._decision = decision

    @workflow.signal(name=CONFIRM_SIGNAL)
    def confirm(self, confirmation: CaseConfirmation) -> None:
        # four eyes: the decider's own confirmation counts for nothing (the API refuses it
        # before it gets here; this holds whoever signals)
        if (
            self._confirmation is None
            and self._decision is not None
            and confirmation.supervisor != self._decision.operator
        ):
            self._confirmation = confirmation

    @workflow.run
    async def run(self, case: CaseRequest) -> str:
        # Local: one short insert, and a case per alert is the stream's busiest workflow, so
        # it should cost the server little. Cases opened before this change (still waiting
        # for a decision) replay the regular activity they recorded.
        plan = case.hand_off
        if not case.opened:
            # Opening says where the alert is handed off too; cases opened before that
            # replay the opening they recorded, which said nothing of it.
            if workflow.patched("alert-hand-off"):
                opening: CaseOpening = await workflow.execute_local_activity_method(
                    CaseActivities.open_case, case, start_to_close_timeout=STEP, retry_policy=RETRY
                )
                opened, plan = opening.opened, opening.hand_off
            else:
                opened = await moved_to_local("open-case-locally")(
                    CaseActivities.open, case, start_to_close_timeout=STEP, retry_policy=RETRY
                )
            if not opened:
                return "no alert"
        # beside the wait for a decision: a failing receiver holds up nothing
        handing_off = asyncio.create_task(hand_off(case, plan)) if plan else None
        outcome = await self._decided(case)
        if handing_off is not None:
            await handing_off
        return outcome

    async def _decided(self, case: CaseRequest) -> str:
        if not await self._decided_within_service_level(case):
            await workflow.execute_activity_method(
                CaseActivities.escalate, case, start_to_close_timeout=STEP, retry_policy=RETRY
            )
            _search_as(case, "escalated")
            await workflow.wait_condition(lambda: self._decision is not None)
        assert self._decision is not None
        if workflow.patched("four-eyes"):
            await self._decide_with_four_eyes(case, self._decision)
        else:  # a history recorded before: every decision closed the case at once
            await workflow.execute_activity_method(
                CaseActivities.decide,
                DecideCase(case, self._decision),
                start_to_close_timeout=STEP,
                retry_policy=RETRY,
            )
        _search_as(case, self._decision.outcome)  # confirmed_fraud | false_positive
        return self._decision.outcome

    async def _decide_with_four_eyes(self, case: CaseRequest, decision: CaseDecision) -> None:
        """Record the decision; if the transaction was interdicted, close the case only when
        a supervisor other than the decider confirms it, escalating a confirmation that does
        not come within the service level."""
        awaits_confirmation: bool = await workflow.execute_activity_method(
            CaseActivities.record_decision,
            DecideCase(case, decision),
            start_to_close_timeout=STEP,
            retry_policy=RETRY,
        )
        if not awaits_confirmation:
            return
        # an escalated confirmation stays awaiting one, as the case's row does
        _search_as(case, "awaiting_confirmation")
        try:
            await workflow.wait_condition(
                lambda: self._confirmation is not None,
                timeout=timedelta(seconds=case.service_level_s),
            )
        except TimeoutError:
            await workflow.execute_activity_method(
                CaseActivities.escalate_confirmation,
                case,
                start_to_close_timeout=STEP,
                retry_policy=RETRY,
            )
            await workflow.wait_condition(lambda: self._confirmation is not None)
        assert self._confirmation is not None
        await workflow.execute_activity_method(
            CaseActivities.confirm,
            ConfirmCase(case, decision, self._confirmation),
            start_to_close_timeout=STEP,
            retry_policy=RETRY,
        )

    async def _decided_within_service_level(self, case: CaseRequest) -> bool:
        # Counted from the case's start, not from this first task: a delayed start's first
        # task comes with the decision's signal or at the deadline itself.
        deadline = workflow.info().workflow_start_time + timedelta(seconds=case.service_level_s)
        remaining = deadline - workflow.now()
        if self._decision is None and remaining > timedelta(0):
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self._decision is not None, timeout=remaining)
        return self._decision is not None


def _search_as(case: CaseRequest, status: str) -> None:
    """The case's SakuStatus, with the labels a case started by the API or a batch has from
    its start: a case an alerting workflow starts as its child has none until this."""
    search_by_status(
        status,
        sa.TENANT.value_set(case.tenant_id),
        sa.KIND.value_set("case"),
        sa.MESSAGE_ID.value_set(case.msg_id),
    )


async def open_cases(tenant: str, alerting_msg_ids: list[str]) -> None:
    """From an alerting workflow: a case per alert, each its own workflow, all started at
    once (one after another, each start would cost the parent a workflow task)."""

    async def open_case(msg_id: str) -> None:
        # a retried run may find the case open already
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await workflow.start_child_workflow(
                CaseWorkflow.run,
                CaseRequest(tenant, msg_id),
                id=case_workflow_id(tenant, msg_id),
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )

    if len(alerting_msg_ids) > 1 and workflow.patched("open-cases-together"):
        await asyncio.gather(*(open_case(msg_id) for msg_id in alerting_msg_ids))
    else:  # one case, or a history recorded before: one start after another
        for msg_id in alerting_msg_ids:
            await open_case(msg_id)
