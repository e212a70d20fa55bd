"""Top-ups through the API (the bank's or payment gateway's system), decided synchronously."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, status

from api.deps import DirectoryDep, RequireRoles, ResourcesDep, SettingsDep, StatementsDep
from api.intake.topups import ID, NoWallet, TopUpIn, WalletMismatch, wallet_of
from api.routes.kiosk_payments import ReceiptOut
from api.starters import wallet as wallet_starts
from core.security import Principal, Role

router = APIRouter(prefix="/v1/topups", tags=["top-ups"])
submitters = RequireRoles(Role.INTEGRATION, Role.OPERATOR, Role.ADMIN)


@router.post(
    "",
    response_model=ReceiptOut,
    summary="Top up a student's wallet: evaluated by monitoring first, credited if allowed",
    responses={
        404: {"description": "no such student, or no wallet with that virtual account, here"},
        409: {"description": "this topupId was already used for a different top-up"},
        422: {"description": "invalid top-up (the reason says which field)"},
    },
)
async def top_up(
    body: TopUpIn,
    principal: Annotated[Principal, Depends(submitters)],
    directory: DirectoryDep,
    statements: StatementsDep,
    resources: ResourcesDep,
    settings: SettingsDep,
) -> ReceiptOut:
    if body.tenant_id not in (None, principal.tenant):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="tenantId is another tenant")
    try:
        student = await wallet_of(directory, principal.tenant, body)
    except NoWallet as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(err)) from err
    except WalletMismatch as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(err)) from err
    try:
        request = body.request(principal.tenant, "api", student)
    except ValueError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(err)) from err
    client = await resources.temporal()
    receipt = await wallet_starts.top_up(client, settings.task_queue, request, statements)
    assert receipt is not None
    return ReceiptOut.of(receipt)


@router.get(
    "/{topup_id}",
    response_model=ReceiptOut,
    summary="A top-up's decision by the bank's reference",
    responses={404: {"description": "no decided top-up with this id"}},
)
async def topup(
    topup_id: Annotated[str, Path(pattern=ID)],
    principal: Annotated[Principal, Depends(submitters)],
    statements: StatementsDep,
) -> ReceiptOut:
    receipt = await statements.topup_receipt(principal.tenant, topup_id)
    if receipt is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no top-up {topup_id!r}")
    return ReceiptOut.of(receipt)
