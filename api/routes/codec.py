"""The codec endpoint in Temporal's codec-server convention, for the Temporal UI and CLI.

`POST /codec/decode` opens sealed workflow payloads for an operator or admin of the tenant
they belong to, and audits every call; `POST /codec/encode` seals payloads the UI or CLI
sends into a workflow (a signal, a start). The UI calls from the browser with the console's
session (signed in at `/sign-in`; its cookie goes with the UI's calls, which come from the
same site); the CLI with a bearer token
(`temporal workflow show --codec-endpoint URL --codec-auth "Bearer TOKEN"`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request, status
from temporalio.converter import WorkflowSerializationContext

from api.codec import (
    PREFIX,
    PayloadsJson,
    check_namespace,
    grant_decode,
    parse,
    render,
    tenant_to_seal,
    workflow_of_page,
)
from api.deps import (
    PayloadAuditDep,
    RequireCodecRoles,
    ResourcesDep,
    SettingsDep,
)
from core.security import Principal, Role
from core.temporal.codec import PayloadDecodeError

router = APIRouter(prefix=PREFIX, tags=["codec"])
decoders = RequireCodecRoles(Role.OPERATOR, Role.ADMIN)
NamespaceHeader = Annotated[str | None, Header(alias="X-Namespace", max_length=255)]
RefererHeader = Annotated[str | None, Header(max_length=2048)]


@router.post(
    "/decode",
    response_model=PayloadsJson,
    summary="Open sealed workflow payloads (Temporal codec server), audited",
    responses={
        400: {"description": "another Temporal namespace than Saku's"},
        403: {"description": "not an operator or admin, or another tenant's payloads"},
        422: {"description": "not base64, or a payload that does not open (key, tampering)"},
    },
)
async def decode(
    request: Request,
    body: PayloadsJson,
    principal: Annotated[Principal, Depends(decoders)],
    resources: ResourcesDep,
    audit: PayloadAuditDep,
    settings: SettingsDep,
    namespace: NamespaceHeader = None,
    referer: RefererHeader = None,
) -> PayloadsJson:
    check_namespace(namespace, settings.temporal_namespace)
    # the CLI's bearer token, or else the console's session (as get_codec_principal chose)
    bearer = request.headers.get("authorization", "").lower().startswith("bearer ")
    payloads = parse(body)
    page_workflow = workflow_of_page(referer)
    grant = await grant_decode(
        principal, payloads, page_workflow, resources.workflow_tenants, resources.temporal
    )
    try:
        opened = [resources.payload_codec.open(p) for p in payloads]
    except PayloadDecodeError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(err)) from err
    await audit.decoded(
        principal,
        namespace=settings.temporal_namespace,
        workflows=sorted(grant.workflows),
        payloads=len(payloads),
        sealed=grant.sealed,
        via="codec endpoint" + ("" if bearer else " (console session)"),
    )
    return render(opened)


@router.post(
    "/encode",
    response_model=PayloadsJson,
    summary="Seal payloads for a workflow (Temporal codec server)",
    responses={
        400: {"description": "another Temporal namespace than Saku's"},
        403: {"description": "not an operator or admin, or a payload naming another tenant"},
        422: {"description": "not base64"},
    },
)
async def encode(
    body: PayloadsJson,
    principal: Annotated[Principal, Depends(decoders)],
    resources: ResourcesDep,
    settings: SettingsDep,
    namespace: NamespaceHeader = None,
    referer: RefererHeader = None,
) -> PayloadsJson:
    check_namespace(namespace, settings.temporal_namespace)
    codec = resources.payload_codec
    page_workflow = workflow_of_page(referer)
    if page_workflow:
        context = WorkflowSerializationContext(settings.temporal_namespace, page_workflow)
        codec = codec.with_context(context)
    payloads = parse(body)
    return render([codec.seal(p, tenant=tenant_to_seal(principal, p)) for p in payloads])
