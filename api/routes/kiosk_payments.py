"""Kiosk payments: a signed kiosk asks, the payment workflow decides, the kiosk shows it."""

from __future__ import annotations

import time
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, Field

from activities.wallet.directory import Directory
from api.deps import DirectoryDep, ResourcesDep, SettingsDep, StatementsDep
from api.kiosk_auth import KioskDep
from api.starters import wallet as wallet_starts
from core.wallet.types import PaymentRequest, Receipt, money

router = APIRouter(prefix="/v1/kiosk", tags=["kiosk"])

TX_ID = r"^[A-Za-z0-9_.:-]{1,64}$"
PIN_TRIES, PIN_LOCK_S = 5, 15 * 60


def pin_failures_key(tenant: str, student_id: str) -> str:
    """Valkey's count of a student's wrong PINs (the lock); a new PIN clears it."""
    return f"saku:pin-failures:{tenant}:{student_id}"


# the longest a kiosk may hold a sale before sending it (offline sales come by sync)
MAX_AGE_S = 24 * 3600


class PaymentIn(BaseModel):
    kiosk_tx_id: str = Field(pattern=TX_ID, description="The kiosk's own id for this sale")
    student_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    amount: Decimal = Field(gt=0, le=10_000_000, decimal_places=4, description="IDR")
    category_id: str | None = Field(default=None, pattern=r"^[a-z0-9_-]{1,64}$")
    auth_method: Literal["fingerprint", "pin", "qr", "override"] = "fingerprint"
    match_score: int | None = Field(default=None, ge=0, le=1000)
    operator_id: str | None = Field(
        default=None, max_length=64, description="Staff member who approved an override"
    )
    pin: str | None = Field(
        default=None,
        pattern=r"^[0-9]{4,8}$",
        description="For auth_method pin: checked here, never stored or passed on",
    )
    sold_at: datetime | None = Field(
        default=None, description="When the kiosk sold it (default: now); timezone required"
    )


class ReceiptOut(BaseModel):
    reference: str
    status: str = Field(description="approved | declined")
    amount: str
    student_id: str
    reason_code: str | None = Field(description="Why it was declined, for systems")
    reason: str | None = Field(description="Why it was declined, for the child at the kiosk")
    balance_after: str | None
    posting_id: str | None
    evaluation_id: str | None
    monitoring_status: str | None = Field(description="ALRT or NALT, when monitoring ran")
    workflow_id: str

    @classmethod
    def of(cls, receipt: Receipt) -> ReceiptOut:
        return cls(
            reference=receipt.reference,
            status=receipt.status,
            amount=receipt.amount,
            student_id=receipt.student_id,
            reason_code=receipt.reason_code,
            reason=receipt.reason,
            balance_after=receipt.balance_after,
            posting_id=receipt.posting_id,
            evaluation_id=receipt.evaluation_id,
            monitoring_status=receipt.monitoring_status,
            workflow_id=receipt.workflow_id,
        )


class KioskReceiptOut(ReceiptOut):
    display_name: str | None = Field(
        default=None, description='The name the kiosk greets the student by, e.g. "Budi S."'
    )


async def kiosk_receipt(
    receipt: Receipt, directory: Directory, tenant: str, school_id: str
) -> KioskReceiptOut:
    """The receipt with the student's name, for the kiosk's screen (its own school only)."""
    name = await directory.display_name(tenant, school_id, receipt.student_id)
    return KioskReceiptOut(**ReceiptOut.of(receipt).model_dump(), display_name=name)


async def check_pin(
    resources: ResourcesDep, directory: Directory, tenant: str, student_id: str, pin: str | None
) -> None:
    """The PIN fallback, checked before anything is started (a PIN never reaches a workflow
    history). Five wrong tries lock the PIN for 15 minutes: four to eight digits are easy
    to guess without a limit."""
    if pin is None:
        raise HTTPException(422, detail="auth_method pin needs the pin")
    failures_key = pin_failures_key(tenant, student_id)
    failures = int(await resources.valkey.get(failures_key) or 0)
    if failures >= PIN_TRIES:
        raise HTTPException(403, detail="Too many wrong PINs. Please see the school office.")
    pin_hash = await directory.pin_hash(tenant, student_id)
    if pin_hash is None:
        raise HTTPException(403, detail="No PIN is set for you. Please see the school office.")
    # argon2id is deliberately slow: off the event loop
    if not await resources.password_checks.verify(pin_hash, pin):
        await resources.valkey.incr(failures_key)
        await resources.valkey.expire(failures_key, PIN_LOCK_S)
        raise HTTPException(403, detail="Wrong PIN. Please try again.")
    await resources.valkey.delete(failures_key)


def _sold_at_ms(sold_at: datetime | None) -> int:
    now_ms = int(time.time() * 1000)
    if sold_at is None:
        return now_ms
    if sold_at.tzinfo is None:
        raise HTTPException(422, detail="sold_at needs a timezone (e.g. 2026-11-23T10:15:00+07:00)")
    at_ms = int(sold_at.timestamp() * 1000)
    if at_ms > now_ms + 60_000 or at_ms < now_ms - MAX_AGE_S * 1000:
        raise HTTPException(422, detail="sold_at must be within the last 24 hours, not future")
    return at_ms


@router.post(
    "/payments",
    response_model=KioskReceiptOut,
    summary="Pay for a purchase (approved or declined, with a reason a child can read)",
    responses={
        401: {"description": "missing, forged, stale or replayed kiosk signature"},
        403: {"description": "wrong PIN, or too many wrong PINs (locked for 15 minutes)"},
        409: {"description": "this kiosk_tx_id was already used for a different purchase"},
        503: {"description": "busy, or still deciding: send the same request again"},
    },
)
async def pay(
    body: PaymentIn,
    kiosk: KioskDep,
    directory: DirectoryDep,
    statements: StatementsDep,
    resources: ResourcesDep,
    settings: SettingsDep,
) -> KioskReceiptOut:
    if body.auth_method == "pin":
        await check_pin(resources, directory, kiosk.tenant, body.student_id, body.pin)
    request = PaymentRequest(
        tenant_id=kiosk.tenant,
        kiosk_id=kiosk.kiosk_id,
        kiosk_tx_id=body.kiosk_tx_id,
        student_id=body.student_id,
        amount=money(body.amount),
        sold_at_ms=_sold_at_ms(body.sold_at),
        category_id=body.category_id,
        auth_method=body.auth_method,
        match_score=body.match_score,
        operator_id=body.operator_id,
    )
    with resources.payments_in_flight:
        client = await resources.temporal()
        receipt = await wallet_starts.pay(
            client, settings.task_queue, request, kiosk.school_id, statements
        )
    return await kiosk_receipt(receipt, directory, kiosk.tenant, kiosk.school_id)


@router.get(
    "/payments/{kiosk_tx_id}",
    response_model=KioskReceiptOut,
    summary="This kiosk's payment by its transaction id (after a timeout, for example)",
    responses={404: {"description": "no decided payment with this id from this kiosk"}},
)
async def payment(
    kiosk_tx_id: Annotated[str, Path(pattern=TX_ID)],
    kiosk: KioskDep,
    statements: StatementsDep,
    directory: DirectoryDep,
) -> KioskReceiptOut:
    receipt = await statements.payment_receipt(kiosk.tenant, kiosk.kiosk_id, kiosk_tx_id)
    if receipt is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no payment {kiosk_tx_id!r}")
    return await kiosk_receipt(receipt, directory, kiosk.tenant, kiosk.school_id)
