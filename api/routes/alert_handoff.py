"""Alert hand-off for a tenant's admins: where its alerts go beyond Saku (a signed webhook and
a syslog collector taking CEF), and what became of each delivery."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from pydantic import BaseModel, Field, SecretStr

from activities.alert_handoff.store import (
    MIN_SECRET_CHARS,
    DeliveryStatus,
    HandOffConfigError,
    Receivers,
)
from api.deps import HandOffStoreDep, RequireRoles
from core.security import Principal, Role

router = APIRouter(prefix="/tenants/{tenant_id}/alert-handoff", tags=["alert hand-off"])
admins = RequireRoles(Role.ADMIN)
investigators = RequireRoles(Role.ADMIN, Role.OPERATOR)


class ReceiversIn(BaseModel):
    webhook_url: str | None = Field(
        default=None,
        max_length=2048,
        description=(
            "Where each alert is POSTed as JSON, signed (X-Saku-Timestamp, X-Saku-Signature: "
            "v1=HMAC-SHA256 of timestamp.body): a public https endpoint"
        ),
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        min_length=MIN_SECRET_CHARS,
        max_length=256,
        description="The signing secret; never shown again. Left out: the stored one is kept",
    )
    syslog_host: str | None = Field(
        default=None, max_length=253, description="A syslog collector taking CEF (RFC 5424)"
    )
    syslog_port: int | None = Field(default=None, ge=1, le=65535)
    syslog_transport: Literal["udp", "tcp", "tcp-lf"] = Field(
        default="udp",
        description="udp; tcp with octet counting (RFC 6587); tcp-lf: one message a line",
    )


class ReceiversOut(BaseModel):
    webhook_url: str | None
    webhook_secret_set: bool
    syslog_host: str | None
    syslog_port: int | None
    syslog_transport: str | None
    updated_by: str
    updated_at: str


class DeliveryOut(BaseModel):
    msg_id: str
    channel: str
    status: str
    attempts: int
    last_error: str | None
    updated_at: str
    delivered_at: str | None


def _out(receivers: Receivers) -> ReceiversOut:
    return ReceiversOut(
        webhook_url=receivers.webhook_url,
        webhook_secret_set=receivers.webhook_secret_set,
        syslog_host=receivers.syslog_host,
        syslog_port=receivers.syslog_port,
        syslog_transport=receivers.syslog_transport,
        updated_by=receivers.updated_by,
        updated_at=receivers.updated_at.isoformat(),
    )


@router.get(
    "",
    response_model=ReceiversOut,
    summary="Where the tenant's alerts are handed off (never the secret)",
    responses={404: {"description": "alerts go to the alerts topic only"}},
)
async def get_receivers(
    tenant_id: str, store: HandOffStoreDep, _: Annotated[Principal, Depends(admins)]
) -> ReceiversOut:
    receivers = await store.get(tenant_id)
    if receivers is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no alert hand-off is configured")
    return _out(receivers)


@router.put(
    "",
    response_model=ReceiversOut,
    summary="Set where the tenant's alerts are handed off; new cases use it",
    responses={422: {"description": "refused: nothing was stored; the reason says why"}},
)
async def put_receivers(
    tenant_id: str,
    body: ReceiversIn,
    store: HandOffStoreDep,
    principal: Annotated[Principal, Depends(admins)],
) -> ReceiversOut:
    try:
        receivers = await store.put(
            tenant_id,
            actor=principal.subject,
            webhook_url=body.webhook_url,
            webhook_secret=body.webhook_secret.get_secret_value() if body.webhook_secret else None,
            syslog_host=body.syslog_host,
            syslog_port=body.syslog_port,
            syslog_transport=body.syslog_transport,
        )
    except HandOffConfigError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(err)) from err
    return _out(receivers)


@router.delete(
    "",
    status_code=204,
    summary="Hand the tenant's alerts off no more (open cases skip what they have not sent)",
    responses={404: {"description": "none was configured"}},
)
async def delete_receivers(
    tenant_id: str, store: HandOffStoreDep, principal: Annotated[Principal, Depends(admins)]
) -> Response:
    if not await store.delete(tenant_id, principal.subject):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no alert hand-off is configured")
    return Response(status_code=204)


@router.get(
    "/deliveries",
    response_model=list[DeliveryOut],
    summary="Deliveries of alerts to the receivers, newest first (failed ones to follow up)",
)
async def deliveries(
    tenant_id: str,
    store: HandOffStoreDep,
    _: Annotated[Principal, Depends(investigators)],
    state: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryOut]:
    return [
        DeliveryOut(
            msg_id=d.msg_id,
            channel=d.channel,
            status=d.status,
            attempts=d.attempts,
            last_error=d.last_error,
            updated_at=d.updated_at.isoformat(),
            delivered_at=d.delivered_at.isoformat() if d.delivered_at else None,
        )
        for d in await store.deliveries(tenant_id, state, limit)
    ]
