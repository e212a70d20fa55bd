"""Send an operator's decision, or a supervisor's confirmation, to a case's workflow (for the
JSON API and the case console alike), refusing with a reason what the case cannot take."""

from __future__ import annotations

import asyncio
import time

from fastapi import HTTPException, status
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from activities.cases import Cases
from api.resources import Resources
from core.cases import (
    CONFIRM_SIGNAL,
    DECIDE_SIGNAL,
    CaseConfirmation,
    CaseDecision,
    CaseRequest,
    case_workflow_id,
)
from core.temporal.start import Labels, start_by_key
from workflows.cases import CaseWorkflow


async def send_decision(
    resources: Resources, cases: Cases, tenant: str, msg_id: str, decision: CaseDecision
) -> str:
    """Signal the decision to the case's workflow; its workflow id. 404 for no such case,
    409 for a case decided (or awaiting its confirmation) already."""
    case_status = await cases.status(tenant, msg_id)
    if case_status is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no case {msg_id!r}")
    if case_status == "decided":
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"case {msg_id!r} is decided")
    if case_status == "awaiting_confirmation":
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"case {msg_id!r} is decided and awaits a supervisor's confirmation",
        )
    workflow_id = case_workflow_id(tenant, msg_id)
    client = await resources.temporal()
    try:
        # Signal-with-start, not a plain signal: a batch starts its cases with their first
        # task delayed by the service level, and only a signal-with-start ends that delay
        # (a plain one would wait with the case). The case's row exists, so were its
        # workflow missing this would start it as opened.
        await start_by_key(
            client,
            CaseWorkflow.run,
            CaseRequest(tenant, msg_id, opened=True),
            id=workflow_id,
            task_queue=resources.settings.task_queue,
            labels=Labels(tenant, "case", message_id=msg_id),
            signal=DECIDE_SIGNAL,  # a decided (finished) case stays so: refused
            signal_args=[decision],
        )
    except (RPCError, WorkflowAlreadyStartedError) as err:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"case {msg_id!r}: {err}") from err
    return workflow_id


async def send_confirmation(
    resources: Resources,
    cases: Cases,
    tenant: str,
    msg_id: str,
    confirmation: CaseConfirmation,
) -> str:
    """Signal a supervisor's confirmation to the case's workflow; its workflow id. 404 for
    no such case, 409 for a case that awaits no confirmation, or whose decision this same
    person made (four eyes: two people)."""
    case = await cases.get(tenant, msg_id)
    if case is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no case {msg_id!r}")
    if case.status != "awaiting_confirmation":
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"case {msg_id!r} awaits no confirmation (it is {case.status})",
        )
    if case.decided_by == confirmation.supervisor:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail="four eyes: a decision is confirmed by a supervisor other than its maker",
        )
    handle = (await resources.temporal()).get_workflow_handle(case.workflow_id)
    try:
        await handle.signal(CONFIRM_SIGNAL, confirmation)
    except RPCError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"case {msg_id!r}: {err}") from err
    return case.workflow_id


async def status_changes(cases: Cases, tenant: str, msg_id: str, before: str, wait_s: float) -> str:
    """The case's status once it is no longer `before`, or as it is after `wait_s` (the
    workflow records a signal a moment after it is sent; a page shows the result)."""
    deadline = time.monotonic() + wait_s
    while True:
        now = await cases.status(tenant, msg_id) or before
        if now != before or time.monotonic() >= deadline:
            return now
        await asyncio.sleep(0.1)
