"""The case console: operators and supervisors work their tenant's alert cases in the
browser. The queue (filter, sort, "assign to me"), and a case: its transaction, its
evaluation explained, the account's recent history, links to its workflows in the Temporal
UI, notes, the decision, the supervisor's confirmation (four-eyes) and the audit trail.

A case is looked up in the signed-in person's tenant only: another tenant's is not found.
Decisions and confirmations go to the case's workflow as signals, as the JSON API sends
them (`api.starters.cases`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, cast, get_args
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response

from activities.cases import Cases, CaseStatus, QueueSort
from activities.web_sessions import WebSession
from api.deps import CasesDep, ResourcesDep, SettingsDep, StoredEvaluationsDep
from api.starters.cases import send_confirmation, send_decision, status_changes
from api.web.pages import (
    PageError,
    PageForm,
    PageUser,
    SubmittedForm,
    as_page,
    local_path,
    redirect,
    render,
    when,
)
from core.cases import OUTCOMES, CaseConfirmation, CaseDecision
from core.monitoring.explain import explain, number
from core.monitoring.transactions import TxType
from core.security import Role

router = APIRouter(prefix="/console", include_in_schema=False)
viewers = PageUser(Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
workers = PageForm(Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
supervisors = PageForm(Role.SUPERVISOR)
DECIDERS = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})
QUEUE = "/console/cases"
OPEN_STATUSES = ("open", "escalated", "awaiting_confirmation")
SORTS: tuple[str, ...] = get_args(QueueSort)
NOTE_MIN, NOTE_MAX = 3, 1000
# how long a page waits for the case's workflow to record a decision or confirmation
RECORDED_WITHIN_S = 5.0


def _case_url(msg_id: str) -> str:
    return f"{QUEUE}/{quote(msg_id, safe='')}"


def _note(form: SubmittedForm) -> str:
    note = form.get("note")
    if not NOTE_MIN <= len(note) <= NOTE_MAX:
        raise PageError(422, f"a note is {NOTE_MIN} to {NOTE_MAX:,} characters")
    return note


@router.get("")
async def console(_: Annotated[WebSession, Depends(viewers)]) -> Response:
    return redirect(QUEUE)


@router.get("/cases")
async def queue(
    request: Request,
    session: Annotated[WebSession, Depends(viewers)],
    cases: CasesDep,
    status: str = "",
    typology: str = "",
    sort: str = "due",
    mine: str = "",
) -> Response:
    if status and status not in OPEN_STATUSES:
        raise PageError(400, f"status is one of {', '.join(OPEN_STATUSES)}")
    if sort not in SORTS:
        raise PageError(400, f"sort is one of {', '.join(SORTS)}")
    tenant, me = session.principal.tenant, session.principal.subject
    rows = await cases.queue(
        tenant,
        status=cast(CaseStatus, status) if status else None,
        typology=typology[:200] or None,
        assigned_to=me if mine else None,
        sort=cast(QueueSort, sort),
    )
    return render(
        request,
        "console/queue.html",
        session=session,
        rows=rows,
        statuses=OPEN_STATUSES,
        typologies=await cases.typologies(tenant),
        sorts=SORTS,
        chosen={"status": status, "typology": typology, "sort": sort, "mine": bool(mine)},
        case_url=_case_url,
    )


def _transaction_fields(tx: dict[str, Any]) -> list[tuple[str, str]]:
    """The transaction's fields as a person reads them (empty ones left out)."""
    fields = []
    for key, value in tx.items():
        if value is None or value == "" or value is False or key in ("tenant_id", "currency"):
            continue
        if key == "amount":
            shown = f"{number(float(value))} {tx.get('currency', '')}".strip()
        elif key == "created_at_ms":
            key, shown = "created_at", when(datetime.fromtimestamp(value / 1000, UTC))
        else:
            shown = str(value)
        fields.append((key.replace("_", " ").capitalize(), shown))
    return fields


@router.get("/cases/{msg_id}")
async def case_page(
    request: Request,
    msg_id: str,
    session: Annotated[WebSession, Depends(viewers)],
    cases: CasesDep,
    evaluations: StoredEvaluationsDep,
    settings: SettingsDep,
    done: str = "",
) -> Response:
    principal = session.principal
    tenant = principal.tenant
    case = await cases.get(tenant, msg_id)
    if case is None:
        raise PageError(404, "")
    await cases.record_view(tenant, msg_id, principal.subject, principal.role.value)
    evaluation = await evaluations.of_message(tenant, msg_id)
    explanation = (
        explain(
            evaluation.result,
            evaluation.status,
            evaluation.interdicted,
            await evaluations.rules_used(evaluation),
        )
        if evaluation
        else None
    )
    tx = await cases.transaction_of(tenant, msg_id)
    account = None
    if tx:
        account = tx.get("creditor_account" if case.tx_type == TxType.TOP_UP else "debtor_account")
    history = await cases.account_history(tenant, account) if account else []
    events = await cases.events(tenant, msg_id)
    ui, namespace = settings.resolved_temporal_ui_url(), quote(settings.temporal_namespace)
    links = []
    if evaluation:
        links.append(
            (
                "evaluation_workflow",
                f"{ui}/namespaces/{namespace}/workflows/{quote(evaluation.workflow_id, safe='')}"
                f"/{quote(evaluation.run_id, safe='')}/history",
            )
        )
    links.append(
        (
            "case_workflow",
            f"{ui}/namespaces/{namespace}/workflows/{quote(case.workflow_id, safe='')}",
        )
    )
    return render(
        request,
        "console/case.html",
        session=session,
        case=case,
        evaluation=evaluation,
        explanation=explanation,
        transaction=_transaction_fields(tx) if tx else None,
        account=account,
        history=history,
        events=events,
        notes=[e for e in events if e.action == "noted"],
        links=links,
        outcomes=OUTCOMES,
        can_work=principal.role in DECIDERS and case.status != "decided",
        can_decide=principal.role in DECIDERS and case.status in ("open", "escalated"),
        is_supervisor=principal.role is Role.SUPERVISOR,
        own_decision=case.decided_by == principal.subject,
        done=done if done in ("sent", "sent_pending") else "",
        case_url=_case_url(msg_id),
        note_limits=(NOTE_MIN, NOTE_MAX),
    )


@router.post("/cases/{msg_id}/assignment")
async def assign(
    msg_id: str, form: Annotated[SubmittedForm, Depends(workers)], cases: CasesDep
) -> Response:
    principal = form.session.principal
    if not await cases.assign(principal.tenant, msg_id, principal.subject, principal.role.value):
        raise PageError(404, "")
    return redirect(local_path(form.get("next"), QUEUE))


@router.post("/cases/{msg_id}/notes")
async def add_note(
    msg_id: str, form: Annotated[SubmittedForm, Depends(workers)], cases: CasesDep
) -> Response:
    principal = form.session.principal
    note = _note(form)
    if not await cases.add_note(
        principal.tenant, msg_id, principal.subject, principal.role.value, note
    ):
        raise PageError(404, "")
    return redirect(_case_url(msg_id))


@router.post("/cases/{msg_id}/decision")
async def decide(
    msg_id: str,
    form: Annotated[SubmittedForm, Depends(workers)],
    cases: CasesDep,
    resources: ResourcesDep,
) -> Response:
    principal = form.session.principal
    outcome, note = form.get("outcome"), _note(form)
    if outcome not in OUTCOMES:
        raise PageError(422, f"the outcome is one of {', '.join(OUTCOMES)}")
    before = await cases.status(principal.tenant, msg_id)
    decision = CaseDecision(outcome, principal.subject, note, principal.role.value)
    with as_page():
        await send_decision(resources, cases, principal.tenant, msg_id, decision)
    return await _recorded(cases, principal.tenant, msg_id, before or "open")


@router.post("/cases/{msg_id}/confirmation")
async def confirm(
    msg_id: str,
    form: Annotated[SubmittedForm, Depends(supervisors)],
    cases: CasesDep,
    resources: ResourcesDep,
) -> Response:
    principal = form.session.principal
    confirmation = CaseConfirmation(principal.subject, _note(form), principal.role.value)
    with as_page():
        await send_confirmation(resources, cases, principal.tenant, msg_id, confirmation)
    return await _recorded(cases, principal.tenant, msg_id, "awaiting_confirmation")


async def _recorded(cases: Cases, tenant: str, msg_id: str, before: str) -> Response:
    """Back to the case, once its workflow has recorded what was sent (or after a while)."""
    after = await status_changes(cases, tenant, msg_id, before, RECORDED_WITHIN_S)
    return redirect(f"{_case_url(msg_id)}?done={'sent' if after != before else 'sent_pending'}")
