"""Liveness and readiness: the only routes that need no token."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Response, status
from pydantic import BaseModel

from api.deps import SettingsDep
from core.health import check_all

router = APIRouter(prefix="/health", tags=["health"])


class Live(BaseModel):
    status: str


class ComponentStatus(BaseModel):
    name: str
    healthy: bool
    version: str
    detail: str
    latency_ms: float


class Ready(BaseModel):
    ready: bool
    components: list[ComponentStatus]


@router.get("/live", response_model=Live, summary="The process is up")
async def live() -> Live:
    return Live(status="ok")


@router.get(
    "/ready",
    response_model=Ready,
    summary="Every dependency answers",
    responses={503: {"model": Ready, "description": "a dependency is down"}},
)
async def ready(settings: SettingsDep, response: Response) -> Ready:
    checks = await check_all(settings)
    components = [
        ComponentStatus(**{k: v for k, v in asdict(c).items() if k != "address"}) for c in checks
    ]
    is_ready = all(c.healthy for c in checks)
    if not is_ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Ready(ready=is_ready, components=components)
