"""Schools and what belongs to them: canteen merchants, kiosks, students; the school's
payments, and the staff's refunds and voids (each audited); a student leaving (their
fingerprints erased, their balance paid back to a guardian), and a payout the bank
rejected sent again."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import BaseModel, Field

from activities.wallet.directory import NotFound
from activities.wallet.payouts import Payout
from api.bounds import PositiveMoney, within_cap
from api.deps import (
    DirectoryDep,
    PayoutsDep,
    RefundsDep,
    RequireRoles,
    ResourcesDep,
    SettingsDep,
    StatementsDep,
)
from api.errors import as_http
from api.starters.leaving import send_payout_again, student_leaves
from core.security import Principal, Role

router = APIRouter(prefix="/v1/schools", tags=["schools"])
admins = RequireRoles(Role.ADMIN)
staff = RequireRoles(Role.ADMIN, Role.SCHOOL_STAFF)
money_staff = RequireRoles(Role.ADMIN, Role.SCHOOL_STAFF, Role.OPERATOR)
ID = r"^[A-Za-z0-9_-]{1,64}$"


class SchoolIn(BaseModel):
    id: str = Field(pattern=ID)
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(
        default="Asia/Jakarta", max_length=64, description="IANA zone: days and hours"
    )
    canteen_opens: time = time(6, 30)
    canteen_closes: time = time(15, 0)
    balance_cap: PositiveMoney | None = Field(
        default=None, description="Below the e-money cap, if the school wants a lower one"
    )


class MerchantIn(BaseModel):
    id: str = Field(pattern=ID)
    name: str = Field(min_length=1, max_length=200)


class KioskIn(BaseModel):
    id: str = Field(pattern=ID)
    merchant_id: str = Field(pattern=ID)
    name: str = Field(min_length=1, max_length=200)


class StudentIn(BaseModel):
    id: str = Field(pattern=ID, description="Pseudonymous: not a name or national id")
    display_name: str = Field(min_length=1, max_length=40, description='e.g. "Budi S."')
    grade: str | None = Field(default=None, max_length=20)
    pin: str | None = Field(default=None, pattern=r"^[0-9]{4,8}$", description="Kiosk fallback PIN")


class StudentStatusIn(BaseModel):
    status: Literal["active", "suspended", "left"]
    reason: str = Field(min_length=3, max_length=300)
    guardian_id: str | None = Field(
        default=None,
        pattern=ID,
        description="When the student leaves: the guardian their balance is paid back to "
        "(needed only if they have several)",
    )


class Created(BaseModel):
    id: str
    created: bool = Field(description="false: it existed already (nothing changed)")


class PayoutOut(BaseModel):
    id: str
    guardian_id: str
    amount: str
    status: str = Field(
        description="requested: posted, on its way to the bank; sent: the bank has it; "
        "paid: the bank paid the guardian; rejected: the bank refused it (the money stays "
        "owed until it is sent again)"
    )
    bank_reference: str | None = Field(default=None, description="The bank's, once answered")
    rejection_reason: str | None = Field(default=None, description="The bank's reason")
    replaces: str | None = Field(default=None, description="The rejected payout it sends again")
    replaced_by: str | None = Field(default=None, description="Rejected, and sent again as this")

    @classmethod
    def of(cls, payout: Payout) -> PayoutOut:
        return cls(
            id=payout.id,
            guardian_id=payout.guardian_id,
            amount=f"{payout.amount:f}",
            status=payout.status,
            bank_reference=payout.bank_reference,
            rejection_reason=payout.rejection_reason,
            replaces=payout.replaces,
            replaced_by=payout.replaced_by,
        )


class SendAgainIn(BaseModel):
    guardian_id: str | None = Field(
        default=None,
        pattern=ID,
        description="Another of the student's guardians to pay (default: the same guardian)",
    )


class SentAgainOut(BaseModel):
    payout: PayoutOut = Field(description="The new payout, on its way to the bank")
    created: bool = Field(description="false: it had been sent again before (nothing changed)")


class StudentStatusOut(Created):
    status: str
    payout: PayoutOut | None = Field(
        default=None, description="A leaver's balance, paid back to a guardian by the bank"
    )


class PaymentOut(BaseModel):
    kiosk_id: str
    kiosk_tx_id: str
    student_id: str
    amount: str
    category_id: str | None
    auth_method: str
    status: str
    reason: str | None
    created_at: str


class ReversalIn(BaseModel):
    reason: str = Field(min_length=3, max_length=500, description="Kept in the audit trail")


class ReversalOut(BaseModel):
    kiosk_id: str
    kiosk_tx_id: str
    action: str
    amount: str
    posting_id: str
    balance_after: str


@router.post("", response_model=Created, status_code=201, summary="Add a school")
async def create_school(
    body: SchoolIn,
    principal: Annotated[Principal, Depends(admins)],
    directory: DirectoryDep,
    settings: SettingsDep,
) -> Created:
    within_cap(settings, body, "balance_cap")
    with as_http():
        created = await directory.create_school(
            principal.tenant,
            body.id,
            body.name,
            timezone=body.timezone,
            canteen_opens=body.canteen_opens,
            canteen_closes=body.canteen_closes,
            balance_cap=body.balance_cap,
        )
    return Created(id=body.id, created=created)


@router.post(
    "/{school_id}/merchants",
    response_model=Created,
    status_code=201,
    summary="Add a canteen merchant (with its settlement account)",
)
async def create_merchant(
    school_id: str,
    body: MerchantIn,
    principal: Annotated[Principal, Depends(admins)],
    directory: DirectoryDep,
) -> Created:
    with as_http():
        created = await directory.create_merchant(principal.tenant, school_id, body.id, body.name)
    return Created(id=body.id, created=created)


@router.post(
    "/{school_id}/kiosks",
    response_model=Created,
    status_code=201,
    summary="Add a kiosk (then register its signing key)",
)
async def create_kiosk(
    school_id: str,
    body: KioskIn,
    principal: Annotated[Principal, Depends(staff)],
    directory: DirectoryDep,
) -> Created:
    with as_http():
        created = await directory.create_kiosk(
            principal.tenant, school_id, body.merchant_id, body.id, body.name
        )
    return Created(id=body.id, created=created)


@router.post(
    "/{school_id}/students",
    response_model=Created,
    status_code=201,
    summary="Enrol a student (with a wallet)",
)
async def create_student(
    school_id: str,
    body: StudentIn,
    principal: Annotated[Principal, Depends(staff)],
    directory: DirectoryDep,
) -> Created:
    with as_http():
        created = await directory.create_student(
            principal.tenant, school_id, body.id, body.display_name, grade=body.grade, pin=body.pin
        )
    return Created(id=body.id, created=created)


@router.put(
    "/{school_id}/students/{student_id}/status",
    response_model=StudentStatusOut,
    summary="Suspend, reactivate, or record that a student left (their fingerprints erased, "
    "their balance paid back to a guardian through the bank)",
    responses={
        409: {"description": "a balance to pay back, but no guardian to pay it to"},
    },
)
async def student_status(
    school_id: str,
    student_id: str,
    body: StudentStatusIn,
    principal: Annotated[Principal, Depends(staff)],
    directory: DirectoryDep,
    payouts: PayoutsDep,
    resources: ResourcesDep,
) -> StudentStatusOut:
    if body.status == "left":
        with as_http():
            leaving = await student_leaves(
                await resources.temporal(),
                resources.settings.task_queue,
                payouts,
                principal,
                school_id,
                student_id,
                body.reason,
                body.guardian_id,
            )
        paid = leaving.payout
        return StudentStatusOut(
            id=student_id,
            created=False,
            status="left",
            payout=None if paid is None else PayoutOut.of(paid),
        )
    with as_http():
        if await directory.student_school(principal.tenant, student_id) != school_id:
            raise NotFound(f"school {school_id!r} has no student {student_id!r}")
        await directory.set_student_status(principal.tenant, student_id, body.status)
    return StudentStatusOut(id=student_id, created=False, status=body.status)


@router.post(
    "/{school_id}/payouts/{payout_id}/send-again",
    response_model=SentAgainOut,
    summary="Send a payout the bank rejected again (as a new payout for the same money, to "
    "the same or another of the student's guardians)",
    responses={409: {"description": "the payout is not rejected (nothing to send again)"}},
)
async def payout_send_again(
    school_id: str,
    payout_id: Annotated[str, Path(pattern=ID)],
    body: SendAgainIn,
    principal: Annotated[Principal, Depends(staff)],
    payouts: PayoutsDep,
    resources: ResourcesDep,
) -> SentAgainOut:
    with as_http():
        again = await send_payout_again(
            await resources.temporal(),
            resources.settings.task_queue,
            payouts,
            principal,
            school_id,
            payout_id,
            body.guardian_id,
        )
    return SentAgainOut(payout=PayoutOut.of(again.payout), created=again.created)


@router.get(
    "/{school_id}/payments",
    response_model=list[PaymentOut],
    summary="The school's kiosk payments, newest first",
)
async def payments(
    school_id: str,
    principal: Annotated[Principal, Depends(money_staff)],
    statements: StatementsDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[PaymentOut]:
    return [
        PaymentOut(
            kiosk_id=p.kiosk_id,
            kiosk_tx_id=p.kiosk_tx_id,
            student_id=p.student_id,
            amount=f"{p.amount:f}",
            category_id=p.category_id,
            auth_method=p.auth_method,
            status=p.status,
            reason=p.reason,
            created_at=p.created_at.isoformat(),
        )
        for p in await statements.school_payments(principal.tenant, school_id, limit)
    ]


async def _reverse(
    action: Literal["refund", "void"],
    school_id: str,
    kiosk_id: str,
    kiosk_tx_id: str,
    body: ReversalIn,
    principal: Principal,
    refunds: RefundsDep,
) -> ReversalOut:
    with as_http():
        done = await refunds.reverse(
            principal.tenant,
            school_id,
            kiosk_id,
            kiosk_tx_id,
            action,
            body.reason,
            principal.subject,
            principal.role.value,
        )
    return ReversalOut(**done.__dict__)


@router.post(
    "/{school_id}/payments/{kiosk_id}/{kiosk_tx_id}/refund",
    response_model=ReversalOut,
    status_code=status.HTTP_200_OK,
    summary="Refund a purchase in full, with a reason (audited; guardians are told)",
    responses={409: {"description": "already refunded or voided, or it was declined"}},
)
async def refund(
    school_id: str,
    kiosk_id: str,
    kiosk_tx_id: str,
    body: ReversalIn,
    principal: Annotated[Principal, Depends(money_staff)],
    refunds: RefundsDep,
) -> ReversalOut:
    return await _reverse("refund", school_id, kiosk_id, kiosk_tx_id, body, principal, refunds)


@router.post(
    "/{school_id}/payments/{kiosk_id}/{kiosk_tx_id}/void",
    response_model=ReversalOut,
    summary="Void one of today's sales (a mistake at the till), with a reason (audited)",
    responses={409: {"description": "not today's sale, or already refunded or voided"}},
)
async def void(
    school_id: str,
    kiosk_id: str,
    kiosk_tx_id: str,
    body: ReversalIn,
    principal: Annotated[Principal, Depends(money_staff)],
    refunds: RefundsDep,
) -> ReversalOut:
    return await _reverse("void", school_id, kiosk_id, kiosk_tx_id, body, principal, refunds)
