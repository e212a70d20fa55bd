"""ISO 20022 intake over HTTP (Tazama's TMS endpoints) and evaluation lookup."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel

from activities.monitoring.history import Incoming
from activities.monitoring.stored_evaluations import StoredEvaluation
from api.deps import RequireRoles, ResourcesDep, StoredEvaluationsDep
from api.intake.messages import IntakeError, parse_message
from api.intake.messages.validation import MODELS
from core.monitoring.transactions import TxType
from core.security import Principal, Role

router = APIRouter(tags=["monitoring"])
submitters = RequireRoles(Role.INTEGRATION, Role.ADMIN, Role.OPERATOR)
# the submitting system may follow up on its own submissions
readers = RequireRoles(Role.ADMIN, Role.OPERATOR, Role.ANALYST, Role.INTEGRATION)


class SubmitReceipt(BaseModel):
    msgId: str
    outcome: str  # accepted | duplicate
    evaluationWorkflowId: str | None
    lookup: str | None
    note: str = ""


async def _submit(
    request: Request, tx_type: str, principal: Principal, resources: Any
) -> SubmitReceipt:
    body = await request.body()
    if b"\\u0000" in body:
        raise HTTPException(422, detail="the JSON contains a NUL character (\\u0000)")
    try:
        text = body.decode("utf-8")  # RFC 8259: JSON exchanged between systems is UTF-8
        # orjson, as on Kafka: strict (no NaN), and nesting deeper than 1,024 levels is an
        # error rather than Python's recursion limit (a 500)
        data = orjson.loads(body)
    except (UnicodeDecodeError, orjson.JSONDecodeError) as err:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=f"malformed JSON: {err}") from err
    if isinstance(data, dict) and data.get("TxTp") not in (None, tx_type):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"TxTp {data.get('TxTp')!r} does not match this endpoint ({tx_type})",
        )
    try:
        tx = parse_message(data, principal.tenant)
    except IntakeError as err:
        code = 403 if "TenantId" in str(err) and "does not match" in str(err) else 422
        raise HTTPException(code, detail=str(err)) from err
    intake = await resources.intake()
    [receipt] = await intake.submit([Incoming(tx, text, "api")])
    if receipt.outcome == "conflict":
        raise HTTPException(status.HTTP_409_CONFLICT, detail=receipt.reason)
    if receipt.outcome == "rejected":
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=receipt.reason)
    lookup = f"/tenants/{tx.tenant_id}/evaluations/{tx.msg_id}" if receipt.workflow_id else None
    note = "" if receipt.workflow_id else "stored as history; its pacs.002 triggers evaluation"
    return SubmitReceipt(
        msgId=tx.msg_id,
        outcome=receipt.outcome,
        evaluationWorkflowId=receipt.workflow_id,
        lookup=lookup,
        note=note,
    )


def iso_message_schemas() -> dict[str, Any]:
    """The four messages' JSON schemas (named `Iso<Model>`), for the OpenAPI components: the
    intake routes read their bodies raw (stored verbatim), so FastAPI cannot list them."""
    schemas: dict[str, Any] = {}
    for model in MODELS.values():
        schema = model.model_json_schema(
            by_alias=True, ref_template="#/components/schemas/Iso{model}"
        )
        for name, definition in schema.pop("$defs", {}).items():
            schemas[f"Iso{name}"] = definition
        schemas[f"Iso{model.__name__}"] = schema
    return schemas


def _intake_route(tx_type: str, summary: str) -> None:
    @router.post(
        f"/v1/evaluate/iso20022/{tx_type}",
        response_model=SubmitReceipt,
        status_code=status.HTTP_202_ACCEPTED,
        summary=summary,
        responses={
            400: {"description": "malformed JSON"},
            403: {"description": "TenantId differs from the token's tenant"},
            409: {"description": "this MsgId was already received with different content"},
            422: {"description": "the message violates the schema; the reason names the field"},
        },
        operation_id=f"submit_{tx_type.replace('.', '_')}",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/Iso{MODELS[tx_type].__name__}"}
                    }
                },
            }
        },
    )
    async def submit(
        request: Request,
        resources: ResourcesDep,
        principal: Annotated[Principal, Depends(submitters)],
    ) -> SubmitReceipt:
        return await _submit(request, tx_type, principal, resources)


_intake_route(TxType.PACS_008, "Submit a customer credit transfer (pacs.008): builds history")
_intake_route(TxType.PACS_002, "Submit a payment status report (pacs.002): triggers evaluation")
_intake_route(TxType.PAIN_001, "Submit a payment initiation (pain.001): builds history")
_intake_route(TxType.PAIN_013, "Submit a request to pay (pain.013): builds history")


class EvaluationOut(BaseModel):
    evaluationId: str
    tenantId: str
    msgId: str
    endToEndId: str
    txTp: str
    status: str
    interdicted: bool
    networkMapCfg: str
    workflowId: str
    runId: str
    evaluatedAt: str
    result: dict[str, Any]


def _out(evaluation: StoredEvaluation) -> EvaluationOut:
    return EvaluationOut(
        evaluationId=evaluation.evaluation_id,
        tenantId=evaluation.tenant_id,
        msgId=evaluation.msg_id,
        endToEndId=evaluation.end_to_end_id,
        txTp=evaluation.tx_type,
        status=evaluation.status,
        interdicted=evaluation.interdicted,
        networkMapCfg=evaluation.network_map_cfg,
        workflowId=evaluation.workflow_id,
        runId=evaluation.run_id,
        evaluatedAt=evaluation.evaluated_at.isoformat(),
        result=evaluation.result,
    )


@router.get(
    "/tenants/{tenant_id}/evaluations/{msg_id}",
    response_model=EvaluationOut,
    summary="An evaluation by message id, with the workflow that decided it",
    responses={404: {"description": "not evaluated (yet)"}},
)
async def get_evaluation(
    tenant_id: str,
    msg_id: str,
    evaluations: StoredEvaluationsDep,
    _: Annotated[object, Depends(readers)],
) -> EvaluationOut:
    evaluation = await evaluations.of_message(tenant_id, msg_id)
    if evaluation is None:
        raise HTTPException(404, detail=f"no evaluation of message {msg_id!r} (yet)")
    return _out(evaluation)


@router.get(
    "/tenants/{tenant_id}/evaluations",
    response_model=list[EvaluationOut],
    summary="Evaluations of one payment, by end-to-end id",
)
async def find_evaluations(
    tenant_id: str,
    evaluations: StoredEvaluationsDep,
    _: Annotated[object, Depends(readers)],
    end_to_end_id: Annotated[str, Query(alias="endToEndId", min_length=1)],
) -> list[EvaluationOut]:
    found = await evaluations.of_payment(tenant_id, end_to_end_id)
    return [_out(evaluation) for evaluation in found]
