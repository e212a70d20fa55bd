"""Guardians and product categories: who looks after which student, and what canteens sell."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field, HttpUrl

from activities.wallet.webhook_targets import WebhookPolicy, WebhookTargetRefused
from api.deps import DirectoryDep, RequireRoles, SettingsDep
from api.errors import as_http
from api.routes.schools import ID, Created
from core.security import Principal, Role

router = APIRouter(prefix="/v1", tags=["guardians"])
staff = RequireRoles(Role.ADMIN, Role.SCHOOL_STAFF)
admins = RequireRoles(Role.ADMIN)


class GuardianIn(BaseModel):
    id: str = Field(pattern=ID)
    display_name: str = Field(min_length=1, max_length=100)
    user_id: UUID | None = Field(
        default=None, description="The guardian's sign-in user (its id, a UUID), if any"
    )
    webhook_url: HttpUrl | None = Field(
        default=None,
        description=(
            "Where notifications are posted (signed with HMAC-SHA256): a public https "
            "endpoint; local, private and link-local addresses are refused"
        ),
    )


class CategoryIn(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9_-]{1,64}$", description='e.g. "sugary-drinks"')
    name: str = Field(min_length=1, max_length=100, description='e.g. "Sugary drinks"')


@router.post("/guardians", response_model=Created, status_code=201, summary="Add a guardian")
async def create_guardian(
    body: GuardianIn,
    principal: Annotated[Principal, Depends(staff)],
    directory: DirectoryDep,
    settings: SettingsDep,
) -> Created:
    if body.webhook_url is not None:
        try:
            WebhookPolicy(settings.webhook_allowed_hosts).check(str(body.webhook_url))
        except WebhookTargetRefused as err:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(err)) from err
    with as_http():
        created = await directory.create_guardian(
            principal.tenant,
            body.id,
            body.display_name,
            user_id=str(body.user_id) if body.user_id else None,
            webhook_url=str(body.webhook_url) if body.webhook_url else None,
        )
    return Created(id=body.id, created=created)


@router.post(
    "/guardians/{guardian_id}/students/{student_id}",
    response_model=Created,
    status_code=201,
    summary="Link a guardian to a student (a student may have several guardians)",
)
async def link(
    guardian_id: str,
    student_id: str,
    principal: Annotated[Principal, Depends(staff)],
    directory: DirectoryDep,
) -> Created:
    with as_http():
        school = await directory.student_school(principal.tenant, student_id)
        if principal.school is not None and school != principal.school:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="student of another school")
        created = await directory.link_guardian(principal.tenant, guardian_id, student_id)
    return Created(id=f"{guardian_id}/{student_id}", created=created)


@router.post(
    "/categories",
    response_model=Created,
    status_code=201,
    summary="Add a product category kiosks can tag sales with",
)
async def create_category(
    body: CategoryIn,
    principal: Annotated[Principal, Depends(admins)],
    directory: DirectoryDep,
) -> Created:
    with as_http():
        created = await directory.create_category(principal.tenant, body.id, body.name)
    return Created(id=body.id, created=created)
