"""The codec endpoint's rules: Temporal's codec-server body, whose payloads a caller may
open, and CORS for the Temporal UI's pages.

A sealed payload names its tenant and workflow in its metadata (`core.temporal.codec`).
An operator or admin opens only their own tenant's: the payload's tenant, or, for a payload
that names none (a result with no tenant field), the tenant its workflow carries as the
`SakuTenant` search attribute. Payloads of no tenant's workflow (backups, reports: no
personal data) are opened for admins only. The UI does not say which workflow it shows;
its page address does, in the `Referer` header when the browser sends one.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from fastapi import HTTPException, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.errors import invalid
from core.security import Principal, Role
from core.temporal import search_attributes as sa
from core.temporal.codec import is_encrypted, sealed_for, tenant_in

PREFIX = "/codec"
# what the UI's fetch sends besides the simple headers
ALLOWED_HEADERS = ["Authorization", "Content-Type", "X-Namespace"]
MAX_PAYLOADS = 2000
MAX_METADATA = 32
# the Temporal UI's workflow page: /namespaces/<ns>/workflows/<workflow id>/<run id>/...
_WORKFLOW_PAGE = re.compile(r"/namespaces/[^/]+/workflows/([^/]+)/([^/]+)")


class PayloadJson(BaseModel):
    """One payload as Temporal's JSON writes it: metadata values and data in base64."""

    model_config = ConfigDict(extra="ignore")

    metadata: dict[str, str] = Field(default_factory=dict, max_length=MAX_METADATA)
    data: str = Field(default="", max_length=4 * 1024 * 1024)


class PayloadsJson(BaseModel):
    """The codec-server body: `{"payloads": [...]}`."""

    model_config = ConfigDict(extra="ignore")

    payloads: list[PayloadJson] = Field(default_factory=list, max_length=MAX_PAYLOADS)


def parse(body: PayloadsJson) -> list[Payload]:
    """The payloads, or a 422 naming the first field that is not base64."""
    payloads = []
    for index, item in enumerate(body.payloads):
        payload = Payload(data=_b64(item.data, ("body", "payloads", index, "data")))
        for key, value in item.metadata.items():
            payload.metadata[key] = _b64(value, ("body", "payloads", index, "metadata", key))
        payloads.append(payload)
    return payloads


def render(payloads: Sequence[Payload]) -> PayloadsJson:
    return PayloadsJson(
        payloads=[
            PayloadJson(
                metadata={k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                data=base64.b64encode(p.data).decode(),
            )
            for p in payloads
        ]
    )


def _b64(text: str, loc: Sequence[str | int]) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise invalid("not base64", loc) from None


def workflow_of_page(referer: str | None) -> str | None:
    """The workflow id in a Temporal UI page address, if it is one."""
    if not referer:
        return None
    found = _WORKFLOW_PAGE.search(urlsplit(referer).path)
    return unquote(found[1]) if found else None


def check_namespace(header: str | None, namespace: str) -> None:
    if header is not None and header != namespace:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            detail=f"this codec serves Temporal namespace {namespace!r}, not {header!r}",
        )


class WorkflowTenants:
    """A workflow's tenant, as its `SakuTenant` search attribute says (a workflow keeps its
    tenant for life, so answers are kept, a bounded number)."""

    def __init__(self, size: int = 10_000) -> None:
        self._known: OrderedDict[str, str | None] = OrderedDict()
        self._size = size

    async def of(self, client: Client, workflow_id: str) -> str | None:
        if workflow_id in self._known:
            self._known.move_to_end(workflow_id)
            return self._known[workflow_id]
        try:
            described = await client.get_workflow_handle(workflow_id).describe()
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            return None  # not (or no longer) in Temporal: no tenant to grant
        tenant = described.typed_search_attributes.get(sa.TENANT)
        self._known[workflow_id] = tenant
        if len(self._known) > self._size:
            self._known.popitem(last=False)
        return tenant


@dataclass
class DecodeGrant:
    """What a decode request opens: its workflows, and how many payloads were sealed."""

    workflows: set[str] = field(default_factory=set)
    sealed: int = 0


async def grant_decode(
    principal: Principal,
    payloads: Sequence[Payload],
    page_workflow: str | None,
    tenants: WorkflowTenants,
    client: Any,
) -> DecodeGrant:
    """Allow the decode, or 403 saying whose payloads these are not."""
    grant = DecodeGrant()
    if page_workflow:
        grant.workflows.add(page_workflow)
    for payload in payloads:
        if not is_encrypted(payload):
            continue
        grant.sealed += 1
        tenant, workflow = sealed_for(payload)
        workflow = workflow or page_workflow
        if workflow:
            grant.workflows.add(workflow)
        if tenant is None and workflow:
            tenant = await tenants.of(await client(), workflow)
        if tenant is None:
            if principal.role is not Role.ADMIN:
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN,
                    detail="payloads of no tenant's workflow are opened for admins only",
                )
        elif tenant != principal.tenant:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail="payloads of another tenant's workflow"
            )
    return grant


def tenant_to_seal(principal: Principal, payload: Payload) -> str:
    """The tenant an encoded payload is sealed for: the caller's, which the payload may name
    but not contradict."""
    named = tenant_in(payload)
    if named is not None and named != principal.tenant:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail="a payload naming another tenant than the token's"
        )
    return principal.tenant


class CodecCors:
    """CORS for the codec's routes only, for the Temporal UI's pages: they call it from the
    browser, with the console's session cookie when their codec settings include credentials.
    Every other route stays same-origin."""

    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_methods=["POST"],
            allow_headers=ALLOWED_HEADERS,
            allow_credentials=True,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(f"{PREFIX}/"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
