"""Alert cases: operators list them and decide each (confirmed fraud or false positive)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from activities.cases import CaseStatus
from api.deps import CasesDep, RequireRoles, ResourcesDep
from core.cases import DECIDE_SIGNAL, CaseDecision, CaseRequest, case_workflow_id
from core.security import Principal, Role
from core.temporal.start import Labels, start_by_key
from workflows.cases import CaseWorkflow

router = APIRouter(prefix="/tenants/{tenant_id}/cases", tags=["cases"])
readers = RequireRoles(Role.OPERATOR, Role.ADMIN, Role.ANALYST)
deciders = RequireRoles(Role.OPERATOR, Role.ADMIN)


class CaseOut(BaseModel):
    msg_id: str
    evaluation_id: str
    tx_type: str
    status: str
    outcome: str | None
    decided_by: str | None
    opened_at: str
    escalated_at: str | None
    decided_at: str | None


class DecisionIn(BaseModel):
    outcome: Literal["confirmed_fraud", "false_positive"]
    note: str = Field(min_length=3, max_length=1000, description="Why: kept in the audit trail")


@router.get("", response_model=list[CaseOut], summary="Cases, newest first")
async def cases(
    tenant_id: str,
    principal: Annotated[Principal, Depends(readers)],
    store: CasesDep,
    state: Annotated[CaseStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CaseOut]:
    return [
        CaseOut(
            msg_id=case.msg_id,
            evaluation_id=case.evaluation_id,
            tx_type=case.tx_type,
            status=case.status,
            outcome=case.outcome,
            decided_by=case.decided_by,
            opened_at=case.opened_at.isoformat(),
            escalated_at=case.escalated_at.isoformat() if case.escalated_at else None,
            decided_at=case.decided_at.isoformat() if case.decided_at else None,
        )
        for case in await store.newest(tenant_id, state, limit)
    ]


@router.post(
    "/{msg_id}/decision",
    status_code=202,
    summary="Decide a case: its workflow records the decision and closes it",
    responses={404: {"description": "no such case"}, 409: {"description": "already decided"}},
)
async def decide(
    tenant_id: str,
    msg_id: str,
    body: DecisionIn,
    principal: Annotated[Principal, Depends(deciders)],
    store: CasesDep,
    resources: ResourcesDep,
) -> dict[str, str]:
    case_status = await store.status(tenant_id, msg_id)
    if case_status is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no case {msg_id!r}")
    if case_status == "decided":
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"case {msg_id!r} is decided")
    workflow_id = case_workflow_id(tenant_id, msg_id)
    client = await resources.temporal()
    try:
        # Signal-with-start, not a plain signal: a batch starts its cases with their first
        # task delayed by the service level, and only a signal-with-start ends that delay
        # (a plain one would wait with the case). The case's row exists, so were its
        # workflow missing this would start it as opened.
        await start_by_key(
            client,
            CaseWorkflow.run,
            CaseRequest(tenant_id, msg_id, opened=True),
            id=workflow_id,
            task_queue=resources.settings.task_queue,
            labels=Labels(tenant_id, "case", message_id=msg_id),
            signal=DECIDE_SIGNAL,  # a decided (finished) case stays so: refused
            signal_args=[CaseDecision(body.outcome, principal.subject, body.note)],
        )
    except (RPCError, WorkflowAlreadyStartedError) as err:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"case {msg_id!r}: {err}") from err
    return {"workflow_id": workflow_id}
