"""Alert cases: operators list, assign, annotate and decide them (confirmed fraud or false
positive); a decision on an interdicted transaction is confirmed by a supervisor."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field

from activities.cases import Case, CaseStatus
from api.deps import CasesDep, RequireRoles, ResourcesDep
from api.starters.cases import send_confirmation, send_decision
from core.cases import CaseConfirmation, CaseDecision
from core.security import Principal, Role

router = APIRouter(prefix="/tenants/{tenant_id}/cases", tags=["cases"])
readers = RequireRoles(Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN, Role.ANALYST)
workers = RequireRoles(Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
deciders = RequireRoles(Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
supervisors = RequireRoles(Role.SUPERVISOR)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


class CaseOut(BaseModel):
    msg_id: str
    evaluation_id: str
    tx_type: str
    status: str
    interdicted: bool
    outcome: str | None
    decided_by: str | None
    opened_at: str
    due_at: str | None
    escalated_at: str | None
    decided_at: str | None
    assigned_to: str | None
    proposed_outcome: str | None = Field(description="a decision awaiting its confirmation")
    confirmed_by: str | None
    confirmed_at: str | None

    @classmethod
    def of(cls, case: Case) -> CaseOut:
        return cls(
            msg_id=case.msg_id,
            evaluation_id=case.evaluation_id,
            tx_type=case.tx_type,
            status=case.status,
            interdicted=case.interdicted,
            outcome=case.outcome,
            decided_by=case.decided_by,
            opened_at=case.opened_at.isoformat(),
            due_at=_iso(case.due_at),
            escalated_at=_iso(case.escalated_at),
            decided_at=_iso(case.decided_at),
            assigned_to=case.assigned_to,
            proposed_outcome=case.proposed_outcome,
            confirmed_by=case.confirmed_by,
            confirmed_at=_iso(case.confirmed_at),
        )


class CaseEventOut(BaseModel):
    at: str
    actor: str
    actor_role: str
    action: str
    note: str
    details: dict[str, Any]


class CaseWithTrail(CaseOut):
    trail: list[CaseEventOut] = Field(description="the case's audit trail, oldest first")


class DecisionIn(BaseModel):
    outcome: Literal["confirmed_fraud", "false_positive"]
    note: str = Field(min_length=3, max_length=1000, description="Why: kept in the audit trail")


class NoteIn(BaseModel):
    note: str = Field(min_length=3, max_length=1000)


class ConfirmationIn(BaseModel):
    note: str = Field(min_length=3, max_length=1000, description="Why: kept in the audit trail")


@router.get("", response_model=list[CaseOut], summary="Cases, newest first")
async def cases(
    tenant_id: str,
    principal: Annotated[Principal, Depends(readers)],
    store: CasesDep,
    state: Annotated[CaseStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CaseOut]:
    return [CaseOut.of(case) for case in await store.newest(tenant_id, state, limit)]


@router.get(
    "/{msg_id}",
    response_model=CaseWithTrail,
    summary="A case with its audit trail (the look is recorded on it)",
    responses={404: {"description": "no such case"}},
)
async def case(
    tenant_id: str,
    msg_id: str,
    principal: Annotated[Principal, Depends(readers)],
    store: CasesDep,
) -> CaseWithTrail:
    found = await store.get(tenant_id, msg_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no case {msg_id!r}")
    await store.record_view(tenant_id, msg_id, principal.subject, principal.role.value)
    trail = [
        CaseEventOut(
            at=e.at.isoformat(),
            actor=e.actor,
            actor_role=e.actor_role,
            action=e.action,
            note=e.note,
            details=e.details,
        )
        for e in await store.events(tenant_id, msg_id)
    ]
    return CaseWithTrail(**CaseOut.of(found).model_dump(), trail=trail)


@router.post(
    "/{msg_id}/assignment",
    status_code=204,
    summary="Assign a case not yet decided to the caller",
    responses={404: {"description": "no such case, or it is decided"}},
)
async def assign(
    tenant_id: str,
    msg_id: str,
    principal: Annotated[Principal, Depends(workers)],
    store: CasesDep,
) -> None:
    if not await store.assign(tenant_id, msg_id, principal.subject, principal.role.value):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"no case {msg_id!r} to assign (or it is decided)"
        )


@router.post(
    "/{msg_id}/notes",
    status_code=201,
    summary="Add a note to a case's audit trail",
    responses={404: {"description": "no such case"}},
)
async def note(
    tenant_id: str,
    msg_id: str,
    body: NoteIn,
    principal: Annotated[Principal, Depends(workers)],
    store: CasesDep,
) -> dict[str, str]:
    if not await store.add_note(
        tenant_id, msg_id, principal.subject, principal.role.value, body.note
    ):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no case {msg_id!r}")
    return {"msg_id": msg_id}


@router.post(
    "/{msg_id}/decision",
    status_code=202,
    summary="Decide a case: its workflow records the decision and closes the case, or, for "
    "an interdicted transaction, waits for a supervisor's confirmation",
    responses={
        404: {"description": "no such case"},
        409: {"description": "already decided"},
    },
)
async def decide(
    tenant_id: str,
    msg_id: str,
    body: DecisionIn,
    principal: Annotated[Principal, Depends(deciders)],
    store: CasesDep,
    resources: ResourcesDep,
) -> dict[str, str]:
    decision = CaseDecision(body.outcome, principal.subject, body.note, principal.role.value)
    workflow_id = await send_decision(resources, store, tenant_id, msg_id, decision)
    return {"workflow_id": workflow_id}


@router.post(
    "/{msg_id}/confirmation",
    status_code=202,
    summary="Confirm the decision on an interdicted transaction (a supervisor other than "
    "the decision's maker): the case workflow then closes the case",
    responses={
        404: {"description": "no such case"},
        409: {"description": "the case awaits no confirmation, or the caller decided it"},
    },
)
async def confirm(
    tenant_id: str,
    msg_id: str,
    body: ConfirmationIn,
    principal: Annotated[Principal, Depends(supervisors)],
    store: CasesDep,
    resources: ResourcesDep,
) -> dict[str, str]:
    confirmation = CaseConfirmation(principal.subject, body.note, principal.role.value)
    workflow_id = await send_confirmation(resources, store, tenant_id, msg_id, confirmation)
    return {"workflow_id": workflow_id}
