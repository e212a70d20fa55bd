"""Operator endpoints: Prometheus metrics and the end-to-end self-check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import DrillsDep, RequireRoles, ResourcesDep
from api.intake.selfcheck import run_selfcheck
from api.metrics import show_drill
from core import topics
from core.security import Role

router = APIRouter(tags=["operations"])
operators = Depends(RequireRoles(Role.ADMIN, Role.OPERATOR))


@router.get(
    "/metrics",
    summary="Prometheus metrics (scrape with an operator token)",
    response_class=Response,
)
async def metrics(drills: DrillsDep, _: Annotated[object, operators]) -> Response:
    show_drill(await drills.last())
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.post(
    "/selfcheck",
    summary="Round trip API -> Kafka -> consumer -> workflow -> PostgreSQL + Valkey",
)
async def selfcheck(resources: ResourcesDep, _: Annotated[object, operators]) -> dict[str, object]:
    report = await run_selfcheck(
        await resources.producer(),
        await resources.temporal(),
        resources.settings.topic(topics.SELFCHECK.name),
        source="api",
    )
    return report.to_dict()
