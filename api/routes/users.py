"""A tenant's users, managed by that tenant's admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field

from activities.accounts import AccountError, User
from api.deps import AccountsDep, RequireRoles
from core.security import Role

router = APIRouter(prefix="/tenants/{tenant_id}/users", tags=["users"])
admins_only = Depends(RequireRoles(Role.ADMIN))


class UserCreate(BaseModel):
    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=10, max_length=256)
    role: Role
    school_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    student_ids: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]] = Field(
        default_factory=list, max_length=100
    )


class UserOut(BaseModel):
    id: str
    username: str
    role: Role
    school_id: str | None
    student_ids: list[str]
    disabled: bool

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            username=user.username,
            role=user.role,
            school_id=user.school_id,
            student_ids=list(user.student_ids),
            disabled=user.disabled,
        )


@router.get("", response_model=list[UserOut], summary="List the tenant's users")
async def get_users(
    tenant_id: str, accounts: AccountsDep, _: Annotated[object, admins_only]
) -> list[UserOut]:
    return [UserOut.of(user) for user in await accounts.users(tenant_id)]


@router.post(
    "",
    response_model=UserOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a user in the tenant",
    responses={409: {"description": "the username is taken"}, 422: {"description": "invalid"}},
)
async def post_user(
    tenant_id: str, body: UserCreate, accounts: AccountsDep, _: Annotated[object, admins_only]
) -> UserOut:
    try:
        user = await accounts.create_user(
            tenant_id=tenant_id,
            username=body.username,
            password=body.password,
            role=body.role,
            school_id=body.school_id,
            student_ids=tuple(body.student_ids),
        )
    except AccountError as err:
        code = status.HTTP_409_CONFLICT if "taken" in str(err) else 422
        raise HTTPException(code, detail=str(err)) from err
    return UserOut.of(user)
