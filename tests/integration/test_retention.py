"""Retention with aged data: every row past its class's retention is in the archive, the hot
tables no longer hold it, the ledger is archived but untouched, and the counts are recorded.
Rows within retention, and other tenants' rows, stay where they are."""

from __future__ import annotations

import httpx
import pytest

from activities.reporting.retention import Retention
from activities.wallet.ledger import Ledger
from core.db import Pool
from core.settings import Settings
from tests.integration.wallet_world import build_world

pytestmark = pytest.mark.integration

AGE = "now() - interval '100 days'"
AGED = [
    ("raw_messages", "received_at"),
    ("evaluations", "evaluated_at"),
    ("transaction_edges", "created_at"),
    ("postings", "created_at"),
]


async def count(pool: Pool, sql: str, *params: object) -> int:
    async with pool.connection() as conn:
        row = await (await conn.execute(sql, params)).fetchone()
    assert row is not None
    return int(row["n"])


async def test_aged_rows_are_archived_then_purged_and_the_ledger_stays(
    stack: Settings, pool: Pool, client: httpx.AsyncClient
) -> None:
    old_world = await build_world(stack, pool, client)
    young_world = await build_world(stack, pool, client)
    for world in (old_world, young_world):
        student = await world.student()
        await world.top_up(student, "20000")
        await world.pay(student, "5000")
        await world.pay(student, "3000")
    old = old_world.tenant
    async with pool.connection() as conn:  # age one tenant's history by 100 days
        for table, column in AGED:
            await conn.execute(f"UPDATE {table} SET {column} = {AGE} WHERE tenant_id = %s", (old,))
        await conn.execute(  # the audit log is append-only: an old entry is written as old
            "INSERT INTO audit_log (tenant_id, actor, actor_role, action, target, reason, at) "
            f"VALUES (%s, 'staff', 'school_staff', 'payment.refund', 'x', 'aged', {AGE})",
            (old,),
        )
    before = {
        table: await count(pool, f"SELECT count(*) AS n FROM {table} WHERE tenant_id = %s", old)
        for table in (
            "raw_messages",
            "evaluations",
            "transaction_edges",
            "postings",
            "ledger_entries",
        )
    }
    assert all(n > 0 for n in before.values()), before
    young_evaluations = await count(
        pool, "SELECT count(*) AS n FROM evaluations WHERE tenant_id = %s", young_world.tenant
    )

    results = {r.data_class: r for r in await Retention(pool).apply()}

    for table in ("raw_messages", "evaluations", "transaction_edges"):
        hot = await count(pool, f"SELECT count(*) AS n FROM {table} WHERE tenant_id = %s", old)
        kept = await count(
            pool, f"SELECT count(*) AS n FROM archive.{table} WHERE tenant_id = %s", old
        )
        assert (hot, kept) == (0, before[table]), table
        assert results[table].purged >= before[table]
    for table in ("postings", "ledger_entries"):  # archived, never purged
        hot = await count(pool, f"SELECT count(*) AS n FROM {table} WHERE tenant_id = %s", old)
        kept = await count(
            pool, f"SELECT count(*) AS n FROM archive.{table} WHERE tenant_id = %s", old
        )
        assert hot == kept == before[table], table
        assert results[table].purged == 0
    assert (
        await count(
            pool,
            "SELECT count(*) AS n FROM audit_log WHERE tenant_id = %s AND reason = 'aged'",
            old,
        )
        == 1
    )
    assert (
        await count(
            pool,
            "SELECT count(*) AS n FROM archive.audit_log WHERE tenant_id = %s AND reason = 'aged'",
            old,
        )
        == 1
    )
    assert (await Ledger(pool).verify(old)).ok
    # the other tenant's recent history is untouched
    assert young_evaluations == await count(
        pool, "SELECT count(*) AS n FROM evaluations WHERE tenant_id = %s", young_world.tenant
    )
    assert (
        await count(
            pool, "SELECT count(*) AS n FROM retention_runs WHERE data_class = 'evaluations'"
        )
        >= 1
    )

    again = {r.data_class: r for r in await Retention(pool).apply()}  # a rerun moves nothing new
    assert again["ledger_entries"].archived == 0
    assert again["raw_messages"].purged == 0


async def test_the_ledger_and_audit_trail_can_never_be_set_to_purge(pool: Pool) -> None:
    async with pool.connection() as conn:
        for data_class in ("ledger_entries", "postings", "audit_log"):
            with pytest.raises(Exception, match="check constraint"):
                async with conn.transaction():
                    await conn.execute(
                        "UPDATE retention_policies SET purge = true WHERE data_class = %s",
                        (data_class,),
                    )


async def test_a_held_tenant_keeps_its_aged_rows_while_the_others_move(
    stack: Settings, pool: Pool, client: httpx.AsyncClient
) -> None:
    held_world = await build_world(stack, pool, client)
    other_world = await build_world(stack, pool, client)
    for world in (held_world, other_world):
        student = await world.student()
        await world.top_up(student, "20000")
        await world.pay(student, "5000")
    held, other = held_world.tenant, other_world.tenant
    async with pool.connection() as conn:  # both tenants' history is past retention
        for table, column in AGED:
            await conn.execute(
                f"UPDATE {table} SET {column} = {AGE} WHERE tenant_id = ANY(%s)", ([held, other],)
            )
    hot = "SELECT count(*) AS n FROM {} WHERE tenant_id = %s"
    before = {table: await count(pool, hot.format(table), held) for table, _ in AGED}
    assert all(n > 0 for n in before.values()), before

    await Retention(pool).apply(held_tenants=[held])

    for table, _ in AGED:  # the held tenant's rows: neither purged nor archived
        assert await count(pool, hot.format(table), held) == before[table], table
        assert await count(pool, hot.format(f"archive.{table}"), held) == 0, table
    for table in ("raw_messages", "evaluations", "transaction_edges"):  # the other's: moved
        assert await count(pool, hot.format(table), other) == 0, table
        assert await count(pool, hot.format(f"archive.{table}"), other) > 0, table
    # each class's run records whose rows it left in place
    policies = await count(pool, "SELECT count(*) AS n FROM retention_policies")
    assert (
        await count(
            pool, "SELECT count(*) AS n FROM retention_runs WHERE %s = ANY(held_tenants)", held
        )
        == policies
    )
