"""The codec endpoint in Temporal's codec-server convention, for the Temporal UI and CLI.

`POST /codec/decode` opens sealed workflow payloads for an operator or admin of the tenant
they belong to, and audits every call; `POST /codec/encode` seals payloads the UI or CLI
sends into a workflow (a signal, a start). The UI calls from the browser with the codec's
session cookie (set by the sign-in page, `/codec/sign-in`); the CLI with a bearer token
(`temporal workflow show --codec-endpoint URL --codec-auth "Bearer TOKEN"`).
"""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Header, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response
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
    CODEC_COOKIE,
    AccountsDep,
    PayloadAuditDep,
    RequireCodecRoles,
    ResourcesDep,
    SettingsDep,
)
from api.sign_in import sign_in
from core.security import Principal, Role, issue_token
from core.temporal.codec import PayloadDecodeError

router = APIRouter(prefix=PREFIX, tags=["codec"])
decoders = RequireCodecRoles(Role.OPERATOR, Role.ADMIN)
CODEC_ROLES = (Role.OPERATOR, Role.ADMIN)
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
        via="codec endpoint" + ("" if "authorization" in request.headers else " (cookie)"),
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


@router.get("/sign-in", response_class=HTMLResponse, include_in_schema=False)
async def sign_in_page(settings: SettingsDep) -> HTMLResponse:
    return _page(settings.temporal_ui_origins, _FORM)


@router.post(
    "/session",
    response_class=HTMLResponse,
    summary="Sign in for the Temporal UI's decoding (sets the codec's session cookie)",
    responses={
        401: {"description": "wrong username or password"},
        403: {"description": "a role that may not decode payloads"},
        429: {"description": "too many failed sign-ins (Retry-After)"},
    },
)
async def session(
    request: Request,
    username: Annotated[str, Form(max_length=256)],
    password: Annotated[str, Form(max_length=256)],
    resources: ResourcesDep,
    accounts: AccountsDep,
    settings: SettingsDep,
) -> HTMLResponse:
    principal = await sign_in(request, username, password, resources, accounts)
    if principal.role not in CODEC_ROLES:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"role {principal.role.value!r} may not decode payloads (operator, admin)",
        )
    token = issue_token(
        principal,
        secret=settings.resolved_jwt_secret(),
        issuer=settings.jwt_issuer,
        ttl_seconds=settings.token_ttl_seconds,
    )
    done = (
        f"<p>Signed in as {html.escape(username)} ({principal.role.value}, tenant "
        f"{html.escape(principal.tenant)}). The Temporal UI decodes your tenant's payloads "
        f"through <code>{html.escape(settings.resolved_codec_endpoint())}</code> now, "
        "for as long as this session lasts.</p>"
    )
    page = _page(settings.temporal_ui_origins, done)
    page.set_cookie(
        CODEC_COOKIE,
        token,
        max_age=settings.token_ttl_seconds,
        path=PREFIX,
        httponly=True,
        # the UI's pages are on the same site as the API (another port or subdomain): a
        # strict cookie goes with their calls and with no other site's
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return page


@router.delete(
    "/session",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Sign out of the codec (clears its session cookie)",
)
async def sign_out() -> Response:
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(CODEC_COOKIE, path=PREFIX)
    return response


_FORM = """
<form method="post" action="/codec/session">
  <p><label>Username <input name="username" autocomplete="username" required></label></p>
  <p><label>Password <input name="password" type="password" autocomplete="current-password"
     required></label></p>
  <p><button type="submit">Sign in</button></p>
</form>
"""


def _page(origins: tuple[str, ...], body: str) -> HTMLResponse:
    ui = ", ".join(f"<code>{html.escape(o)}</code>" for o in origins)
    return HTMLResponse(
        f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Saku: decode payloads</title></head>
<body>
<h1>Decode workflow payloads in the Temporal UI</h1>
<p>Saku seals workflow payloads before Temporal stores them. Operators and admins sign in
here; the Temporal UI ({ui}) then shows their tenant's payloads decoded, and every decode is
audited. In the UI's <em>Codec Server</em> settings, keep this endpoint and tick
<em>Include cross-origin credentials</em>.</p>
{body}
</body></html>""",
        headers={"Cache-Control": "no-store"},
    )
