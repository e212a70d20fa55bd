"""A student's wallet as guardians and staff see it, and the guardians' controls: daily and
weekly limits, category blocks and limits, the low-balance threshold."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field

from activities.wallet.directory import CategoryControl, Controls, Directory
from api.bounds import Money, within_cap
from api.deps import DirectoryDep, RequireRoles, SettingsDep, StatementsDep
from api.errors import as_http
from core.security import Principal, Role

router = APIRouter(prefix="/v1/students/{student_id}", tags=["students"])
# RequireRoles keeps a guardian to their own children (the token's students)
viewers = RequireRoles(Role.GUARDIAN, Role.SCHOOL_STAFF, Role.ADMIN, Role.OPERATOR)
controllers = RequireRoles(Role.GUARDIAN, Role.SCHOOL_STAFF, Role.ADMIN)


class ControlsBody(BaseModel):
    daily_limit: Money | None = Field(
        default=None, description="null: no limit; at most the e-money cap"
    )
    weekly_limit: Money | None = Field(
        default=None, description="null: no limit; at most the e-money cap"
    )
    low_balance_threshold: Money | None = Field(
        default=None, description="Notify guardians when the balance drops below this"
    )


class CategoryControlBody(BaseModel):
    blocked: bool = Field(default=False, description="e.g. sugary drinks, an allergen")
    daily_limit: Money | None = Field(default=None, description="at most the e-money cap")


class CategoryControlOut(CategoryControlBody):
    category_id: str


class ControlsOut(ControlsBody):
    categories: list[CategoryControlOut]


class Movement(BaseModel):
    kind: str = Field(description="purchase | topup")
    reference: str
    amount: str
    status: str
    reason: str | None
    category_id: str | None
    at: str


class WalletOut(BaseModel):
    student_id: str
    display_name: str
    school_id: str
    status: str
    balance: str
    movements: list[Movement]


async def _school_scope(directory: Directory, principal: Principal, student_id: str) -> None:
    """Staff see their own school's students only (guardians are scoped by the token)."""
    with as_http():
        school = await directory.student_school(principal.tenant, student_id)
    if principal.school is not None and school != principal.school:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="student of another school")


@router.get("/wallet", response_model=WalletOut, summary="Balance and recent history")
async def wallet(
    student_id: str,
    principal: Annotated[Principal, Depends(viewers)],
    directory: DirectoryDep,
    statements: StatementsDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> WalletOut:
    await _school_scope(directory, principal, student_id)
    statement = await statements.wallet(principal.tenant, student_id, limit)
    assert statement is not None
    return WalletOut(
        student_id=student_id,
        display_name=statement.display_name,
        school_id=statement.school_id,
        status=statement.status,
        balance=f"{statement.balance:f}",
        movements=[
            Movement(
                kind=m.kind,
                reference=m.reference,
                amount=f"{m.amount:f}",
                status=m.status,
                reason=m.reason,
                category_id=m.category_id,
                at=m.at.isoformat(),
            )
            for m in statement.movements
        ],
    )


@router.get("/controls", response_model=ControlsOut, summary="The guardians' controls")
async def controls(
    student_id: str,
    principal: Annotated[Principal, Depends(viewers)],
    directory: DirectoryDep,
) -> ControlsOut:
    await _school_scope(directory, principal, student_id)
    with as_http():
        current, categories = await directory.controls(principal.tenant, student_id)
    return ControlsOut(
        daily_limit=current.daily_limit,
        weekly_limit=current.weekly_limit,
        low_balance_threshold=current.low_balance_threshold,
        categories=[CategoryControlOut(**c.__dict__) for c in categories],
    )


@router.put(
    "/controls",
    response_model=ControlsOut,
    summary="Set the daily and weekly limits and the low-balance threshold",
)
async def set_controls(
    student_id: str,
    body: ControlsBody,
    principal: Annotated[Principal, Depends(controllers)],
    directory: DirectoryDep,
    settings: SettingsDep,
) -> ControlsOut:
    within_cap(settings, body, "daily_limit", "weekly_limit", "low_balance_threshold")
    await _school_scope(directory, principal, student_id)
    with as_http():
        await directory.set_controls(
            principal.tenant,
            student_id,
            Controls(**body.model_dump()),
            principal.subject,
            actor_role=principal.role.value,
        )
    return await controls(student_id, principal, directory)


@router.put(
    "/controls/categories/{category_id}",
    response_model=ControlsOut,
    summary="Block a category or limit it per day",
)
async def set_category_control(
    student_id: str,
    category_id: str,
    body: CategoryControlBody,
    principal: Annotated[Principal, Depends(controllers)],
    directory: DirectoryDep,
    settings: SettingsDep,
) -> ControlsOut:
    within_cap(settings, body, "daily_limit")
    await _school_scope(directory, principal, student_id)
    control = CategoryControl(category_id, body.blocked, body.daily_limit)
    with as_http():
        await directory.set_category_control(
            principal.tenant,
            student_id,
            control,
            by=principal.subject,
            actor_role=principal.role.value,
        )
    return await controls(student_id, principal, directory)


@router.delete(
    "/controls/categories/{category_id}",
    response_model=ControlsOut,
    summary="Lift a category's block or limit",
)
async def clear_category_control(
    student_id: str,
    category_id: str,
    principal: Annotated[Principal, Depends(controllers)],
    directory: DirectoryDep,
) -> ControlsOut:
    await _school_scope(directory, principal, student_id)
    await directory.clear_category_control(
        principal.tenant,
        student_id,
        category_id,
        by=principal.subject,
        actor_role=principal.role.value,
    )
    return await controls(student_id, principal, directory)
