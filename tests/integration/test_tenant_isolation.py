"""Tenants never see each other: a guardian's sign-in is a guardian user of its own tenant."""

from __future__ import annotations

import uuid

import httpx
import psycopg
import pytest

from activities.accounts import create_tenant, create_user
from core.db import Pool
from core.security import Role
from core.settings import Settings
from tests.integration.test_api_auth import token_for

pytestmark = pytest.mark.integration

PASSWORD = "a long enough password"


async def sign_in(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await client.post("/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_staff_cannot_bind_a_guardian_user_of_another_tenant(
    client: httpx.AsyncClient, pool: Pool, stack: Settings
) -> None:
    ours, theirs = (f"tenant-{uuid.uuid4().hex[:8]}" for _ in range(2))
    async with pool.connection() as conn:
        for tenant in (ours, theirs):
            await create_tenant(conn, tenant, tenant)
        their_guardian = await create_user(
            conn,
            tenant_id=theirs,
            username=f"g-{uuid.uuid4().hex[:8]}",
            password=PASSWORD,
            role=Role.GUARDIAN,
        )
        our_operator = await create_user(
            conn,
            tenant_id=ours,
            username=f"op-{uuid.uuid4().hex[:8]}",
            password=PASSWORD,
            role=Role.OPERATOR,
        )
    admin = token_for(stack, Role.ADMIN, tenant=ours)

    async def bind(user_id: str) -> httpx.Response:
        body = {"id": f"g-{uuid.uuid4().hex[:6]}", "display_name": "Ibu", "user_id": user_id}
        return await client.post("/v1/guardians", json=body, headers=admin)

    across = await bind(their_guardian.id)
    assert across.status_code == 404, across.text
    assert "no user" in across.json()["detail"]
    not_a_guardian = await bind(our_operator.id)
    assert not_a_guardian.status_code == 400
    assert "not a guardian" in not_a_guardian.json()["detail"]
    not_an_id = await bind("abc")
    assert not_an_id.status_code in (400, 422)
    assert "abc" in str(not_an_id.json()["detail"])
    assert "invalid input syntax" not in not_an_id.text  # nothing of the database's own words

    # their guardian's token still lists none of our students
    me = await client.get("/auth/me", headers=await sign_in(client, their_guardian.username))
    assert me.json()["students"] == []
    # and the database itself refuses such a binding, whoever writes it
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        async with pool.connection() as conn:
            await conn.execute(
                "INSERT INTO guardians (tenant_id, id, user_id, display_name) "
                "VALUES (%s, 'sneaky', %s, 'x')",
                (ours, their_guardian.id),
            )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "must be https"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://127.0.0.2:58080/v1/topups", "loopback"),  # 127.0.0.1 is allow-listed here
        ("https://localhost/hook", "local name"),
    ],
)
async def test_a_guardian_webhook_pointing_inside_is_refused(
    client: httpx.AsyncClient, stack: Settings, url: str, reason: str
) -> None:
    admin = token_for(stack, Role.ADMIN)
    body = {"id": f"g-{uuid.uuid4().hex[:6]}", "display_name": "Ibu", "webhook_url": url}
    response = await client.post("/v1/guardians", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert reason in str(response.json()["detail"])
