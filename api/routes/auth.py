"""Sign in (OAuth2 password flow) and who-am-I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.accounts import find_user
from api.deps import RequireRoles, ResourcesDep, SettingsDep
from saku.security import Principal, Role, issue_token, verify_password, verify_unknown_user

router = APIRouter(prefix="/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class Me(BaseModel):
    subject: str
    role: Role
    tenant: str
    school: str | None
    students: list[str]


@router.post(
    "/token",
    response_model=Token,
    summary="Exchange a username and password for a bearer token",
    responses={401: {"description": "wrong username or password, or the user is disabled"}},
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    resources: ResourcesDep,
    settings: SettingsDep,
) -> Token:
    async with resources.pool.connection() as conn:
        user = await find_user(conn, form.username)
    if user is None:
        verify_unknown_user(form.password)
    if user is None or user.disabled or not verify_password(user.password_hash, form.password):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="wrong username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    access = issue_token(
        user.principal(),
        secret=settings.resolved_jwt_secret(),
        issuer=settings.jwt_issuer,
        ttl_seconds=settings.token_ttl_seconds,
    )
    return Token(access_token=access, expires_in=settings.token_ttl_seconds)


@router.get("/me", response_model=Me, summary="The calling principal, as the token says")
async def me(principal: Annotated[Principal, Depends(RequireRoles(*Role))]) -> Me:
    return Me(
        subject=principal.subject,
        role=principal.role,
        tenant=principal.tenant,
        school=principal.school,
        students=list(principal.students),
    )
