"""Fingerprints: consent, enrolment at a kiosk, what kiosk sensors must load or delete, and
erasure. Templates cross the API only between a signed kiosk and the encrypted vault."""

from __future__ import annotations

import base64
import contextlib
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field
from temporalio.client import Client
from temporalio.service import RPCError

from activities.biometrics.vault import VaultError
from activities.wallet.directory import Directory
from api.deps import (
    ConsentsDep,
    DirectoryDep,
    RequireRoles,
    ResourcesDep,
    SensorCommandsDep,
    SettingsDep,
    TemplateVaultDep,
)
from api.errors import as_http
from api.kiosk_auth import KioskDep
from core.biometrics.consent import GUARDIAN_DECISIONS, Decision
from core.biometrics.types import (
    ErasureRequest,
    TemplateRef,
    erase_workflow_id,
    load_workflow_id,
)
from core.security import Principal, Role
from core.temporal.start import Labels, start_by_key
from workflows.biometrics import DistributeTemplateWorkflow, EraseBiometricsWorkflow

kiosk_router = APIRouter(prefix="/v1/kiosk", tags=["kiosk"])
router = APIRouter(prefix="/v1/students/{student_id}/biometrics", tags=["biometrics"])
deciders = RequireRoles(Role.GUARDIAN, Role.SCHOOL_STAFF, Role.ADMIN)
TEMPLATE_BYTES = 512  # the sensor's template: two 256-byte characteristic files


class EnrolmentIn(BaseModel):
    student_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    finger: int = Field(ge=1, le=10, description="1 right thumb ... 10 left little finger")
    template: str = Field(max_length=1024, description="The sensor's 512-byte template, base64")
    operator_id: str = Field(max_length=64, description="The staff member enrolling")


class CommandOut(BaseModel):
    id: int
    action: Literal["load", "delete"]
    student_id: str
    finger: int
    template: str | None = Field(description="For a load: the template, base64")


class ConsentIn(BaseModel):
    party: str = Field(
        pattern=r"^(student|guardian:[A-Za-z0-9_-]{1,64})$",
        description='"student" or "guardian:<id>" (a guardian records only their own)',
    )
    decision: Decision


class BiometricsOut(BaseModel):
    allowed: bool
    reason: str
    fingers: list[int] = Field(description="Enrolled fingers (never any template data)")


class ErasureIn(BaseModel):
    reason: str = Field(min_length=3, max_length=300)


async def start_erasure(client: Client, task_queue: str, request: ErasureRequest) -> str:
    workflow_id = erase_workflow_id(request.tenant_id, request.student_id)
    await start_by_key(
        client,
        EraseBiometricsWorkflow.run,
        request,
        id=workflow_id,
        task_queue=task_queue,
        labels=Labels(request.tenant_id, "biometric-erasure"),
        once=False,  # erasure asked for again (a new enrolment since) runs again
    )
    return workflow_id


@kiosk_router.post(
    "/enrolments",
    status_code=202,
    summary="Enrol a finger captured here: encrypted, then loaded into the school's kiosks",
    responses={403: {"description": "no valid consent for this student"}},
)
async def enrol(
    body: EnrolmentIn,
    kiosk: KioskDep,
    directory: DirectoryDep,
    consents: ConsentsDep,
    vault: TemplateVaultDep,
    sensors: SensorCommandsDep,
    resources: ResourcesDep,
    settings: SettingsDep,
) -> dict[str, str]:
    try:
        template = base64.b64decode(body.template, validate=True)
    except ValueError as err:  # binascii.Error, or a character outside ASCII
        raise HTTPException(422, detail="template must be base64") from err
    if len(template) != TEMPLATE_BYTES:
        raise HTTPException(422, detail=f"a template is {TEMPLATE_BYTES} bytes")
    with as_http():
        if await directory.student_school(kiosk.tenant, body.student_id) != kiosk.school_id:
            raise HTTPException(403, detail="student of another school")
    consent = await consents.status(kiosk.tenant, body.student_id)
    if not consent.allowed:
        raise HTTPException(403, detail=f"no fingerprint without consent: {consent.reason}")
    await vault.seal(kiosk.tenant, body.student_id, body.finger, template)
    # queued now, so the kiosks can load it at their next poll; the workflow's own queueing
    # (idempotent) covers a crash right here
    await sensors.queue_loads(kiosk.tenant, body.student_id, body.finger)
    ref = TemplateRef(kiosk.tenant, body.student_id, body.finger)
    client = await resources.temporal()
    await start_by_key(
        client,
        DistributeTemplateWorkflow.run,
        ref,
        id=load_workflow_id(ref),
        task_queue=settings.task_queue,
        labels=Labels(kiosk.tenant, "template-distribution", school=kiosk.school_id),
        once=False,  # a finger enrolled again is distributed again
    )
    return {"workflow_id": load_workflow_id(ref), "status": "enrolled"}


class TemplateOut(BaseModel):
    finger: int
    template: str = Field(description="base64; for one comparison on the sensor, then wiped")


@kiosk_router.get(
    "/students/{student_id}/templates",
    response_model=list[TemplateOut],
    summary="Verify (1:1) mode: one student's templates, to compare with the finger presented",
    responses={403: {"description": "no consent, or a student of another school"}},
)
async def student_templates(
    student_id: str,
    kiosk: KioskDep,
    directory: DirectoryDep,
    consents: ConsentsDep,
    vault: TemplateVaultDep,
) -> list[TemplateOut]:
    with as_http():
        school = await directory.student_school(kiosk.tenant, student_id)
    if school != kiosk.school_id:
        raise HTTPException(403, detail="student of another school")
    consent = await consents.status(kiosk.tenant, student_id)
    if not consent.allowed:
        raise HTTPException(403, detail=f"no fingerprint for this student: {consent.reason}")
    return [
        TemplateOut(
            finger=finger,
            template=base64.b64encode(await vault.open(kiosk.tenant, student_id, finger)).decode(),
        )
        for finger in await vault.fingers(kiosk.tenant, student_id)
    ]


@kiosk_router.get(
    "/sensor/commands",
    response_model=list[CommandOut],
    summary="What this kiosk's sensor must load or delete, oldest first",
)
async def commands(
    kiosk: KioskDep, sensors: SensorCommandsDep, vault: TemplateVaultDep
) -> list[CommandOut]:
    out = []
    for command in await sensors.pending_for(kiosk.tenant, kiosk.kiosk_id):
        template = None
        if command.action == "load":
            try:
                sealed = await vault.open(kiosk.tenant, command.student_id, command.finger)
            except VaultError:
                continue  # erased meanwhile: its delete follows
            template = base64.b64encode(sealed).decode()
        out.append(
            CommandOut(
                id=command.id,
                action=command.action,  # type: ignore[arg-type]
                student_id=command.student_id,
                finger=command.finger,
                template=template,
            )
        )
    return out


@kiosk_router.post(
    "/sensor/commands/{command_id}/done",
    status_code=204,
    summary="The sensor carried out this command",
)
async def command_done(
    command_id: int, kiosk: KioskDep, sensors: SensorCommandsDep, resources: ResourcesDep
) -> None:
    done = await sensors.confirm(kiosk.tenant, kiosk.kiosk_id, command_id)
    if done is None:
        raise HTTPException(404, detail=f"no pending command {command_id} for this kiosk")
    client = await resources.temporal()
    workflow_id = (
        load_workflow_id(TemplateRef(kiosk.tenant, done.student_id, done.finger))
        if done.action == "load"
        else erase_workflow_id(kiosk.tenant, done.student_id)
    )
    # a nudge only (the workflow re-checks on its own); finished or absent: nobody waits
    with contextlib.suppress(RPCError):
        await client.get_workflow_handle(workflow_id).signal("kiosk_confirmed")


async def _scope(directory: Directory, principal: Principal, student_id: str) -> None:
    with as_http():
        school = await directory.student_school(principal.tenant, student_id)
    if principal.school is not None and school != principal.school:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="student of another school")


@router.get("", response_model=BiometricsOut, summary="Consent status and enrolled fingers")
async def biometrics(
    student_id: str,
    principal: Annotated[Principal, Depends(deciders)],
    directory: DirectoryDep,
    consents: ConsentsDep,
    vault: TemplateVaultDep,
) -> BiometricsOut:
    await _scope(directory, principal, student_id)
    consent = await consents.status(principal.tenant, student_id)
    fingers = await vault.fingers(principal.tenant, student_id)
    return BiometricsOut(allowed=consent.allowed, reason=consent.reason, fingers=fingers)


@router.post(
    "/consent",
    response_model=BiometricsOut,
    summary="Record a written decision; losing consent erases the fingerprints everywhere",
)
async def consent(
    student_id: str,
    body: ConsentIn,
    principal: Annotated[Principal, Depends(deciders)],
    directory: DirectoryDep,
    consents: ConsentsDep,
    vault: TemplateVaultDep,
    resources: ResourcesDep,
    settings: SettingsDep,
) -> BiometricsOut:
    await _scope(directory, principal, student_id)
    is_guardian_decision = body.decision in GUARDIAN_DECISIONS
    if is_guardian_decision != body.party.startswith("guardian:"):
        raise HTTPException(422, detail=f"{body.decision} is not a decision {body.party} makes")
    if principal.role is Role.GUARDIAN:
        guardian = await directory.guardian_signing_in_as(principal.tenant, principal.subject)
        if guardian is None or body.party != f"guardian:{guardian}":
            raise HTTPException(403, detail="a guardian records only their own decision")
    now = await consents.record(
        principal.tenant, student_id, body.party, body.decision, principal.subject
    )
    fingers = await vault.fingers(principal.tenant, student_id)
    if not now.allowed and fingers:
        request = ErasureRequest(principal.tenant, student_id, now.reason, principal.subject)
        await start_erasure(await resources.temporal(), settings.task_queue, request)
    return BiometricsOut(
        allowed=now.allowed, reason=now.reason, fingers=[] if not now.allowed else fingers
    )


@router.post(
    "/erase",
    status_code=202,
    summary="Erase a student's fingerprints everywhere (leaving, or on request)",
)
async def erase(
    student_id: str,
    body: ErasureIn,
    principal: Annotated[Principal, Depends(deciders)],
    directory: DirectoryDep,
    resources: ResourcesDep,
    settings: SettingsDep,
) -> dict[str, str]:
    await _scope(directory, principal, student_id)
    request = ErasureRequest(principal.tenant, student_id, body.reason, principal.subject)
    workflow_id = await start_erasure(await resources.temporal(), settings.task_queue, request)
    return {"workflow_id": workflow_id}
