"""Sign in (OAuth2 password flow) and who-am-I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.deps import AccountsDep, RequireRoles, ResourcesDep, SettingsDep
from api.sign_in import sign_in
from core.security import Principal, Role, issue_token

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
    responses={
        401: {"description": "wrong username or password, or the user is disabled"},
        422: {"description": "username or password longer than any Saku accepts"},
        429: {"description": "too many failed sign-ins for this user or address (Retry-After)"},
        503: {"description": "too many passwords being checked at once (Retry-After)"},
    },
)
async def token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    resources: ResourcesDep,
    accounts: AccountsDep,
    settings: SettingsDep,
) -> Token:
    principal = await sign_in(request, form.username, form.password, resources, accounts)
    access = issue_token(
        principal,
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
