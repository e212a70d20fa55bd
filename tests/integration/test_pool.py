"""The pool's check as it hands a connection out: a connection its server has closed is
replaced, and a healthy one is handed out without a round trip to ask."""

from __future__ import annotations

import pytest
from psycopg_pool import AsyncConnectionPool

from core.db import Pool, create_pool
from core.settings import Settings

pytestmark = pytest.mark.integration


async def backend_pid(pool: Pool) -> int:
    async with pool.connection() as conn:
        row = await (await conn.execute("SELECT pg_backend_pid() AS pid")).fetchone()
    assert row is not None
    return int(row["pid"])


async def test_a_connection_its_server_closed_is_replaced_as_it_is_handed_out(
    stack: Settings, pool: AsyncConnectionPool
) -> None:
    async with create_pool(stack.resolved_database_url(), min_size=1, max_size=1) as own:
        before = await backend_pid(own)
        async with pool.connection() as admin:  # as a server that stops closes its sockets
            await admin.execute("SELECT pg_terminate_backend(%s)", (before,))
        after = await backend_pid(own)  # no error: the closed one was not handed out
        assert after != before


async def test_a_healthy_connection_is_handed_out_without_a_round_trip(
    stack: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[object] = []

    async def round_trip(conn: object) -> None:
        asked.append(conn)

    monkeypatch.setattr(AsyncConnectionPool, "check_connection", staticmethod(round_trip))
    async with create_pool(stack.resolved_database_url(), min_size=1, max_size=1) as own:
        pids = {await backend_pid(own) for _ in range(20)}
    assert len(pids) == 1 and asked == []
