"""FastAPI dependencies: resources, the calling principal, and role/scope authorisation.

Every route except health declares `Depends(RequireRoles(...))`. The dependency refuses a
missing or invalid token with 401, and a token of another role, or scoped to another tenant,
school or student than the path names, with 403. Tests walk every route to prove it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.resources import Resources
from core.security import InvalidToken, Principal, Role, decode_token
from core.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="A token from POST /auth/token")


def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=reason, headers={"WWW-Authenticate": "Bearer"}
    )


def get_principal(
    settings: Annotated[Settings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("a bearer token is required (get one from POST /auth/token)")
    try:
        return decode_token(
            credentials.credentials,
            secret=settings.resolved_jwt_secret(),
            issuer=settings.jwt_issuer,
        )
    except InvalidToken as err:
        raise _unauthorized(f"invalid token: {err}") from err


class RequireRoles:
    """Allow only these roles, within the tenant/school/student the path names."""

    def __init__(self, *roles: Role) -> None:
        if not roles:
            raise ValueError("name at least one role")
        self.roles = frozenset(roles)

    def __call__(
        self, request: Request, principal: Annotated[Principal, Depends(get_principal)]
    ) -> Principal:
        if principal.role not in self.roles:
            allowed = ", ".join(sorted(r.value for r in self.roles))
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"role {principal.role.value!r} may not do this (allowed: {allowed})",
            )
        params = request.path_params
        tenant = params.get("tenant_id")
        if tenant is not None and tenant != principal.tenant:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="token is for another tenant")
        school = params.get("school_id")
        if school is not None and principal.school is not None and school != principal.school:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="token is for another school")
        student = params.get("student_id")
        if (
            student is not None
            and principal.role is Role.GUARDIAN
            and student not in principal.students
        ):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail="this guardian is not linked to that student"
            )
        return principal


ResourcesDep = Annotated[Resources, Depends(get_resources)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
