"""A tenant whose payments alert, for the case console's tests: the hand-computable
monitoring configuration of test_monitoring.py, people of every role who sign in, and a
payment that opens a case; and signing in to the pages over HTTP."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from activities.accounts import create_tenant, create_user
from activities.monitoring.config_store import ConfigStore, import_bundle
from core.db import Pool
from core.security import Principal, Role, issue_token
from core.settings import Settings
from saku.iso20022_samples import financial_transaction
from tests.integration.test_monitoring import REPORTABLE, bundle, msg_id
from tests.stackutil import eventually

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class CaseWorld:
    tenant: str
    usernames: dict[str, str]  # role (or "supervisor2") -> username


async def case_world(pool: Pool, tenant: str, *, interdict: float = 350) -> CaseWorld:
    """`tenant` (created if need be) configured (a reportable payment to a new account
    scores 400: an alert, interdicted unless `interdict` is above it), with a user per role."""
    async with pool.connection() as conn:
        await create_tenant(conn, tenant, "Case console tests")
    await import_bundle(ConfigStore(pool), tenant, bundle("1.0.0", interdict=interdict))
    usernames = {}
    async with pool.connection() as conn:
        for label, role in [
            *((r.value, r) for r in Role),
            ("supervisor2", Role.SUPERVISOR),
        ]:
            username = f"{label}-{uuid.uuid4().hex[:8]}"
            await create_user(
                conn,
                tenant_id=tenant,
                username=username,
                password=PASSWORD,
                role=role,
                school_id="school-1" if role is Role.SCHOOL_STAFF else None,
            )
            usernames[label] = username
    return CaseWorld(tenant, usernames)


async def raise_alert(client: httpx.AsyncClient, settings: Settings, tenant: str) -> str:
    """Submit a reportable payment to a new account as the bank; the id of its case, once
    the case is open."""
    token = issue_token(
        Principal("core-banking", Role.INTEGRATION, tenant),
        secret=settings.resolved_jwt_secret(),
        issuer=settings.jwt_issuer,
        ttl_seconds=600,
    )
    headers = {"Authorization": f"Bearer {token}"}
    payment = financial_transaction(amount=REPORTABLE, tenant_id=tenant)
    for message in payment:
        response = await client.post(
            f"/v1/evaluate/iso20022/{message['TxTp']}", json=message, headers=headers
        )
        assert response.status_code == 202, response.text
    alert_id = msg_id(payment.pacs002)
    operator = issue_token(
        Principal("lookup", Role.OPERATOR, tenant),
        secret=settings.resolved_jwt_secret(),
        issuer=settings.jwt_issuer,
        ttl_seconds=600,
    )

    async def opened() -> bool:
        listed = await client.get(
            f"/tenants/{tenant}/cases", headers={"Authorization": f"Bearer {operator}"}
        )
        return alert_id in [c["msg_id"] for c in listed.json()]

    assert await eventually(opened, timeout=30), "the alert opened no case"
    return alert_id


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found[1]


async def signed_in(app: FastAPI, username: str, *, https: bool = False) -> httpx.AsyncClient:
    """A client of its own (its own cookies) signed in to the pages as `username`."""
    base = "https://saku.test" if https else "http://saku.test"
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base)
    form = await client.get("/sign-in")
    response = await client.post(
        "/sign-in",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_of(form.text)},
    )
    assert response.status_code == 303, response.text
    return client
