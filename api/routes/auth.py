"""Sign in (OAuth2 password flow) and who-am-I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.deps import AccountsDep, RequireRoles, ResourcesDep, SettingsDep
from api.sign_in_guard import authenticate
from core.security import Principal, Role, issue_token

router = APIRouter(prefix="/auth", tags=["auth"])
# as long as any user's can be (users.username and POST /tenants/{tenant}/users)
MAX_USERNAME = 64
MAX_PASSWORD = 256


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
    if len(form.username) > MAX_USERNAME or len(form.password) > MAX_PASSWORD:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"a username is at most {MAX_USERNAME} and a password at most "
            f"{MAX_PASSWORD} characters",
        )
    user = await authenticate(
        resources.sign_in_throttle,
        resources.password_checks,
        accounts,
        form.username,
        form.password,
        request.client.host if request.client else "unknown",
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
