"""Monitoring configuration for a tenant's admins: validated on write, activated live."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, status

from activities.monitoring.config_store import export_bundle, import_bundle
from api.deps import ConfigStoreDep, RequireRoles
from core.monitoring.config import ConfigError, EventFlowCondition
from core.security import Role

router = APIRouter(prefix="/tenants/{tenant_id}/monitoring", tags=["monitoring configuration"])
admins = Depends(RequireRoles(Role.ADMIN))
investigators = Depends(RequireRoles(Role.ADMIN, Role.OPERATOR))


@router.get("/config", summary="Every stored configuration (the import/export bundle)")
async def get_config(
    tenant_id: str, configs: ConfigStoreDep, _: Annotated[object, admins]
) -> dict[str, Any]:
    return await export_bundle(configs, tenant_id)


@router.post(
    "/config",
    summary="Store rule configs, typologies and network maps; optionally activate one",
    responses={422: {"description": "invalid: nothing was stored; the reason says why"}},
)
async def post_config(
    tenant_id: str,
    configs: ConfigStoreDep,
    _: Annotated[object, admins],
    bundle: Annotated[dict[str, Any], Body(examples=[{"rules": [], "activate": "1.0.0"}])],
) -> dict[str, list[str]]:
    try:
        changes = await import_bundle(configs, tenant_id, bundle)
    except ConfigError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(err)) from err
    return {"changes": changes}


@router.post("/network-maps/{cfg}/activate", summary="Make a stored network map active")
async def activate(
    tenant_id: str, cfg: str, configs: ConfigStoreDep, _: Annotated[object, admins]
) -> dict[str, str]:
    try:
        await configs.activate(tenant_id, cfg)
    except ConfigError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(err)) from err
    return {"active": cfg}


@router.put(
    "/conditions/{condition_id}",
    summary="Set an event-flow condition (block or override) on an account or entity",
)
async def put_condition(
    tenant_id: str,
    condition_id: str,
    condition: EventFlowCondition,
    configs: ConfigStoreDep,
    _: Annotated[object, investigators],
) -> dict[str, str]:
    if condition.tenant_id != tenant_id or condition.id != condition_id:
        raise HTTPException(422, detail="the condition's tenantId and id must match the path")
    await configs.put_condition(condition)
    return {"stored": condition_id}


@router.delete("/conditions/{condition_id}", summary="Revoke an event-flow condition")
async def delete_condition(
    tenant_id: str, condition_id: str, configs: ConfigStoreDep, _: Annotated[object, investigators]
) -> dict[str, bool]:
    return {"revoked": await configs.revoke_condition(tenant_id, condition_id)}
