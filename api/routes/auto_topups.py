"""A guardian's auto top-up for one of their children, the API's twin of the portal's form:
when a purchase takes the wallet below a threshold, the bank is asked for an amount (never
past the wallet's e-money cap, once per crossing; `activities/wallet/payments.py` queues the
request). Read it, set it, switch it off.

Guardians only, for their own children (any other child is not found, as on the portal's
pages); every change is audited by the store (`Portal.set_auto_topup`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from activities.wallet.portal import AutoTopUp, Child, Portal
from api.bounds import PositiveMoney, within_cap
from api.deps import ChildId, GuardianDep, PortalDep, SettingsDep, own_child
from api.errors import invalid
from core.security import Principal

router = APIRouter(prefix="/v1/guardian/children/{child_id}/auto-topup", tags=["guardian portal"])
REQUESTS_SHOWN = 10


class AutoTopUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    below: PositiveMoney = Field(
        description="When a purchase takes the balance below this (IDR; at most the cap) ..."
    )
    amount: PositiveMoney = Field(
        description=(
            "... ask the bank for this much (IDR; at most the cap). What is asked for never "
            "takes the wallet past its e-money cap."
        )
    )


class TopUpAskedOut(BaseModel):
    id: str = Field(description="The request's id; the bank's answering top-up carries it")
    amount: Decimal
    status: str = Field(description="pending | sent | credited | declined")
    at: datetime


class AutoTopUpOut(BaseModel):
    student_id: str
    enabled: bool
    below: Decimal | None = Field(description="null when switched off")
    amount: Decimal | None = Field(description="null when switched off")
    cap: Decimal = Field(
        description="The wallet's e-money cap (SAKU_BALANCE_CAP, or the school's lower one)"
    )
    virtual_account: str = Field(
        description="The wallet's virtual account number: a bank transfer to it tops it up"
    )
    requests: list[TopUpAskedOut] = Field(description="The latest requests to the bank")


async def _child(portal: Portal, principal: Principal, child_id: str) -> Child:
    student_id = own_child(principal, child_id)
    children = await portal.children(principal.tenant, (student_id,))
    if not children:  # the token lists them, the directory (no longer) does
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"you have no child {child_id!r}")
    return children[0]


async def _answer(portal: Portal, principal: Principal, child: Child) -> AutoTopUpOut:
    tenant, student_id = principal.tenant, child.student_id
    setting = await portal.auto_topup(tenant, student_id)
    asked = await portal.topups_asked(tenant, student_id, REQUESTS_SHOWN)
    return AutoTopUpOut(
        student_id=student_id,
        enabled=setting is not None,
        below=setting.below if setting else None,
        amount=setting.amount if setting else None,
        cap=child.cap,
        virtual_account=child.virtual_account,
        requests=[TopUpAskedOut(id=a.id, amount=a.amount, status=a.status, at=a.at) for a in asked],
    )


@router.get(
    "",
    response_model=AutoTopUpOut,
    summary="The child's auto top-up, the latest requests to the bank, the virtual account",
    responses={404: {"description": "not one of your children"}},
)
async def auto_topup(child_id: ChildId, principal: GuardianDep, portal: PortalDep) -> AutoTopUpOut:
    return await _answer(portal, principal, await _child(portal, principal, child_id))


@router.put(
    "",
    response_model=AutoTopUpOut,
    summary="Set the child's auto top-up: below a threshold, ask the bank for an amount",
    responses={
        404: {"description": "not one of your children"},
        422: {"description": "an amount is not positive or above the wallet's e-money cap"},
    },
)
async def set_auto_topup(
    child_id: ChildId,
    body: AutoTopUpIn,
    principal: GuardianDep,
    portal: PortalDep,
    settings: SettingsDep,
) -> AutoTopUpOut:
    child = await _child(portal, principal, child_id)
    within_cap(settings, body, "below", "amount")
    cap = child.cap  # the school's, when it set a lower one than Saku's
    for name in ("below", "amount"):
        value: Decimal = getattr(body, name)
        if value > cap:
            raise invalid(
                f"{name} must be at most the wallet's e-money cap of {cap:f} IDR "
                "(the school's cap)",
                ("body", name),
                f"{value:f}",
            )
    await portal.set_auto_topup(
        principal.tenant,
        child.student_id,
        AutoTopUp(body.below, body.amount),
        principal.subject,
        principal.role.value,
    )
    return await _answer(portal, principal, child)


@router.delete(
    "",
    response_model=AutoTopUpOut,
    status_code=status.HTTP_200_OK,
    summary="Switch the child's auto top-up off",
    responses={404: {"description": "not one of your children"}},
)
async def switch_off(child_id: ChildId, principal: GuardianDep, portal: PortalDep) -> AutoTopUpOut:
    child = await _child(portal, principal, child_id)
    await portal.set_auto_topup(
        principal.tenant, child.student_id, None, principal.subject, principal.role.value
    )
    return await _answer(portal, principal, child)
