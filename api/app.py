"""The FastAPI application: one router per resource, auth on every route but health."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request, Response

from api import errors, metrics, web
from api.body_limit import BodyLimit
from api.bounds import no_nul_characters
from api.codec import CodecCors
from api.docs import add_docs
from api.resources import Resources
from api.routes import (
    alert_handoff,
    auth,
    auto_topups,
    biometrics,
    cases,
    codec,
    evaluations,
    guardians,
    health,
    inbox,
    kiosk_keys,
    kiosk_payments,
    monitoring_config,
    offline,
    operations,
    schools,
    students,
    topups,
    transfers,
    users,
)
from core.logs import correlation_id, new_correlation_id
from core.settings import Settings, get_settings

CORRELATION_HEADER = "X-Request-ID"

DESCRIPTION = """
Saku: cashless school pocket money with real-time transaction monitoring.

Every route except `/health/*` needs a bearer token from `POST /auth/token`. Tokens carry a
role (admin, school_staff, guardian, operator, supervisor, analyst, integration) and a
tenant, and where it applies a school or students; a route refuses other roles and other
scopes with 403.

Kiosk routes (`/v1/kiosk/*`) take no token: the kiosk signs each request with its Ed25519
key (`X-Saku-*` headers over method, path, body hash, timestamp and nonce); stale
timestamps, reused nonces and revoked keys are refused with 401.
"""


async def _correlate(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    incoming = request.headers.get(CORRELATION_HEADER, "")
    # accept a caller's id only if it is short and plain, so it cannot inject into logs
    cid = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else new_correlation_id()
    token = correlation_id.set(cid)
    try:
        response = await call_next(request)
    finally:
        correlation_id.reset(token)
    response.headers[CORRELATION_HEADER] = cid
    return response


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources = Resources(settings)
        await resources.open()
        app.state.resources = resources
        try:
            yield
        finally:
            await resources.close()

    docs = settings.api_docs
    app = FastAPI(
        title="Saku",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # before any route's own dependencies (a token check included): see api/bounds.py
        dependencies=[Depends(no_nul_characters)],
        # FastAPI's own pages load Swagger UI and ReDoc from a CDN: add_docs serves them
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
    )
    if docs:
        add_docs(app, "/openapi.json")
    app.state.settings = settings
    errors.install(app)
    # added first, so it runs innermost: its 413 is measured and correlated like any answer
    app.add_middleware(BodyLimit, max_bytes=settings.api_max_body_bytes)
    app.middleware("http")(metrics.observe)
    app.middleware("http")(_correlate)
    # outermost: the browser's preflight for the codec is answered before anything else
    app.add_middleware(CodecCors, origins=settings.temporal_ui_origins)
    routers = (
        health.router,
        auth.router,
        users.router,
        evaluations.router,
        monitoring_config.router,
        operations.router,
        kiosk_keys.router,
        kiosk_keys.kiosk_router,
        schools.router,
        guardians.router,
        students.router,
        auto_topups.router,
        transfers.router,
        inbox.router,
        topups.router,
        kiosk_payments.router,
        biometrics.router,
        biometrics.kiosk_router,
        offline.router,
        cases.router,
        alert_handoff.router,
        codec.router,
    )
    for router in routers:
        app.include_router(router)
    web.install(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = errors.document_errors(app)
            schema["components"]["schemas"].update(evaluations.iso_message_schemas())
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
    return app
