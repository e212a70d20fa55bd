"""A guardian's notifications inbox, the API's twin of the portal's notifications page: the
events their webhook receives (top-ups, declines, low balance, refunds, ...), newest first
in pages, each read or unread.

Guardians only, their own inbox only (`guardian_inbox` rows of the guardian record their
sign-in is; a notification of anyone else is not found)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from activities.wallet.portal import Notice
from api.deps import GuardianDep, PortalDep

router = APIRouter(prefix="/v1/guardian/notifications", tags=["guardian portal"])
MAX_ID = 2**63 - 1  # the inbox's ids are bigint


class NoticeOut(BaseModel):
    id: int
    student_id: str = Field(description="The child it is about")
    kind: str = Field(
        description=(
            "topup_credited, topup_declined, payment_declined, payment_refunded, "
            "payment_voided, low_balance, offline_debt, student_left"
        )
    )
    payload: dict[str, Any] = Field(description="The event's details (amounts as strings)")
    at: datetime
    read: bool

    @classmethod
    def of(cls, notice: Notice) -> NoticeOut:
        return cls(
            id=notice.id,
            student_id=notice.student_id,
            kind=notice.kind,
            payload=notice.payload,
            at=notice.at,
            read=notice.read,
        )


class InboxOut(BaseModel):
    notifications: list[NoticeOut]
    unread: int = Field(description="Unread notifications in the whole inbox")
    next_before: int | None = Field(
        description="Pass as `before` for the next (older) page; null on the last page"
    )


class ReadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    read: bool = Field(description="true: mark read; false: mark unread again")


class MarkedOut(BaseModel):
    marked: int = Field(description="How many notifications were marked")
    unread: int = Field(description="Unread notifications left in the inbox")


async def _guardian_id(portal: PortalDep, principal: GuardianDep) -> str | None:
    found = await portal.guardian_of(principal.tenant, principal.subject)
    return None if found is None else found[0]


@router.get(
    "",
    response_model=InboxOut,
    summary="Your notifications, newest first, a page at a time",
)
async def inbox(
    principal: GuardianDep,
    portal: PortalDep,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size (1 to 100)")] = 20,
    before: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="Only those older than this id (the next page)"),
    ] = None,
    unread: Annotated[bool, Query(description="Only unread ones")] = False,
) -> InboxOut:
    guardian = await _guardian_id(portal, principal)
    if guardian is None:  # a guardian sign-in no guardian record names: nothing for them
        return InboxOut(notifications=[], unread=0, next_before=None)
    notices = await portal.inbox(
        principal.tenant, guardian, limit, before=before, unread_only=unread
    )
    return InboxOut(
        notifications=[NoticeOut.of(n) for n in notices],
        unread=await portal.unread(principal.tenant, guardian),
        next_before=notices[-1].id if len(notices) == limit else None,
    )


@router.put(
    "/{notification_id}",
    response_model=NoticeOut,
    summary="Mark one notification read or unread",
    responses={404: {"description": "no such notification in your inbox"}},
)
async def mark_one(
    notification_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    body: ReadIn,
    principal: GuardianDep,
    portal: PortalDep,
) -> NoticeOut:
    guardian = await _guardian_id(portal, principal)
    if guardian is None or not await portal.mark(
        principal.tenant, guardian, notification_id, read=body.read
    ):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"no notification {notification_id} in your inbox"
        )
    notice = await portal.notice(principal.tenant, guardian, notification_id)
    assert notice is not None  # a guardian's notifications stay theirs
    return NoticeOut.of(notice)


@router.put(
    "",
    response_model=MarkedOut,
    summary="Mark every notification read (or unread)",
)
async def mark_all(body: ReadIn, principal: GuardianDep, portal: PortalDep) -> MarkedOut:
    guardian = await _guardian_id(portal, principal)
    if guardian is None:
        return MarkedOut(marked=0, unread=0)
    marked = await portal.mark(principal.tenant, guardian, None, read=body.read)
    return MarkedOut(marked=marked, unread=await portal.unread(principal.tenant, guardian))
