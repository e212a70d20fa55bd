"""Integration tests share the session's embedded stack; the ledger invariant must hold
after every module, whatever the module did. `app` and `client` are the real API on that
stack (with its in-process worker), one per module."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from activities.accounts import create_tenant
from activities.wallet.ledger import Ledger
from api.app import create_app
from core.db import Pool
from core.settings import Settings


@pytest.fixture(scope="module", autouse=True)
async def ledger_invariant_holds(pool: Pool) -> AsyncIterator[None]:
    yield
    result = await Ledger(pool).verify()
    assert result.ok, result.problems


@pytest.fixture(scope="module")
async def app(stack: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(stack)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="module")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://saku.test") as client:
        yield client


@pytest.fixture
async def bank(pool: Pool) -> str:
    """A tenant of the test's own (a bank), with nothing configured yet."""
    tenant_id = f"bank-{uuid.uuid4().hex[:8]}"
    async with pool.connection() as conn:
        await create_tenant(conn, tenant_id, "Test bank")
    return tenant_id
