"""Retention with aged data: every row past its class's retention is in the archive, the hot
tables no longer hold it, the ledger (and payouts) are archived but untouched, and the counts
are recorded. Rows within retention, rows still needed (an unread notification, a top-up
request not yet sent) and other tenants' rows stay where they are."""

from __future__ import annotations

import httpx
import pytest

from activities.reporting.retention import Retention
from activities.wallet.ledger import Ledger
from activities.wallet.payouts import Payouts
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
        for data_class in ("ledger_entries", "postings", "audit_log", "payouts"):
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


async def test_portal_rows_go_by_their_class_and_payouts_stay_as_financial_records(
    stack: Settings, pool: Pool, client: httpx.AsyncClient
) -> None:
    world = await build_world(stack, pool, client)
    tenant = world.tenant
    student, leaver = await world.student(), await world.student()
    guardian = f"g-{student}"
    await world.top_up(leaver, "7000")
    left = await Payouts(pool).leave(
        tenant, world.school, leaver, None, "moved away", "staff", "school_staff"
    )
    assert left.payout is not None
    young_leaver = await world.student()
    await world.top_up(young_leaver, "3000")
    young = await Payouts(pool).leave(
        tenant, world.school, young_leaver, None, "moved away", "staff", "school_staff"
    )
    assert young.payout is not None

    def days_ago(days: int) -> str:
        return f"now() - interval '{days} days'"

    async with pool.connection() as conn:
        # notifications: read 100 days ago, unread for 100 days, read and 10 days old
        for key, created, read in (
            ("old-read", days_ago(100), days_ago(99)),
            ("old-unread", days_ago(100), "NULL"),
            ("young-read", days_ago(10), days_ago(9)),
        ):
            await conn.execute(
                "INSERT INTO guardian_inbox (tenant_id, guardian_id, student_id, kind, payload, "
                f"dedup_key, created_at, read_at) VALUES (%s, %s, %s, 'low_balance', '{{}}', "
                f"%s, {created}, {read})",
                (tenant, guardian, student, key),
            )
        # requests to the bank: sent 400 days ago, still pending after 400, sent 100 days ago
        for request_id, created, status in (
            ("old-sent", days_ago(400), "sent"),
            ("old-pending", days_ago(400), "pending"),
            ("young-sent", days_ago(100), "sent"),
        ):
            await conn.execute(
                "INSERT INTO topup_requests (tenant_id, id, student_id, virtual_account, amount, "
                f"cause, status, created_at) VALUES (%s, %s, %s, '8808', 50000, 'x', %s, "
                f"{created})",
                (tenant, request_id, student, status),
            )
        # one payout past the ledger's period, one within it
        await conn.execute(
            f"UPDATE payouts SET created_at = {days_ago(100)} WHERE tenant_id = %s AND id = %s",
            (tenant, left.payout.id),
        )
        policies = {
            r["data_class"]: (r["days"], r["purge"])
            for r in await (
                await conn.execute("SELECT data_class, days, purge FROM retention_policies")
            ).fetchall()
        }
    assert policies["guardian_inbox"] == (90, True)
    assert policies["topup_requests"] == (365, True)
    assert policies["payouts"] == (policies["ledger_entries"][0], False)

    results = {r.data_class: r for r in await Retention(pool).apply()}

    async def keys(table: str, column: str) -> set[str]:
        async with pool.connection() as conn:
            rows = await (
                await conn.execute(
                    f"SELECT {column} AS k FROM {table} WHERE tenant_id = %s", (tenant,)
                )
            ).fetchall()
        return {str(r["k"]) for r in rows}

    assert await keys("guardian_inbox", "dedup_key") >= {"old-unread", "young-read"}
    assert "old-read" not in await keys("guardian_inbox", "dedup_key")
    assert await keys("archive.guardian_inbox", "dedup_key") == {"old-read"}
    assert await keys("topup_requests", "id") >= {"old-pending", "young-sent"}
    assert "old-sent" not in await keys("topup_requests", "id")
    assert await keys("archive.topup_requests", "id") == {"old-sent"}
    assert results["guardian_inbox"].purged >= 1 and results["topup_requests"].purged >= 1
    # payouts: the old one archived and still there, the young one not archived yet
    assert await keys("payouts", "id") == {left.payout.id, young.payout.id}
    assert await keys("archive.payouts", "id") == {left.payout.id}
    assert results["payouts"].purged == 0
    verified = await Ledger(pool).verify(tenant)
    assert verified.ok and verified.payouts == 10000, verified.problems
