"""Retention per data class (`retention_policies`): rows past their class's retention are
moved to the `archive` schema (copied, and for purged classes deleted, in one statement so
nothing is lost between the two), and each run's counts are recorded. The ledger, the audit
trail and payouts are archived but never purged: the policies table refuses it. A row still
needed (an unread notification, a top-up request not yet sent) stays whatever its age."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from psycopg import AsyncConnection, sql
from psycopg.rows import DictRow

from core.db import Pool

# class -> which of its rows are old enough, given the cutoff
_OLD: dict[str, str] = {
    "raw_messages": "received_at < %(cutoff)s",
    "evaluations": "evaluated_at < %(cutoff)s",
    "transaction_edges": "created_at < %(cutoff)s",
    "notification_outbox": "created_at < %(cutoff)s AND status IN ('sent', 'dead')",
    "postings": "created_at < %(cutoff)s",
    "ledger_entries": "(tenant_id, posting_id) IN "
    "(SELECT tenant_id, id FROM public.postings WHERE created_at < %(cutoff)s)",
    "audit_log": "at < %(cutoff)s",
    # a notification the guardian has not read yet stays, however old
    "guardian_inbox": "created_at < %(cutoff)s AND read_at IS NOT NULL",
    # a request the relay has not sent to the bank yet stays
    "topup_requests": "created_at < %(cutoff)s AND status = 'sent'",
    "payouts": "created_at < %(cutoff)s",
}


@dataclass(frozen=True)
class RetentionResult:
    data_class: str
    cutoff: str
    archived: int
    purged: int


async def _columns(conn: AsyncConnection[DictRow], table: str) -> sql.Composed:
    rows = await (
        await conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name = %s ORDER BY ordinal_position",
            (table,),
        )
    ).fetchall()
    return sql.SQL(", ").join(sql.Identifier(r["column_name"]) for r in rows)


class Retention:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def apply(
        self, now: datetime | None = None, held_tenants: Sequence[str] = ()
    ) -> list[RetentionResult]:
        """Move every class's rows past retention, except the held tenants' (whose data
        failed the quality checks: nothing of theirs is acted on until it is fixed)."""
        at = now or datetime.now(UTC)
        held = list(held_tenants)
        results = []
        async with self.pool.connection() as conn:
            policies = await (
                await conn.execute("SELECT data_class, days, purge FROM retention_policies")
            ).fetchall()
            for policy in sorted(policies, key=lambda p: list(_OLD).index(p["data_class"])):
                table = policy["data_class"]
                cutoff = at - timedelta(days=policy["days"])
                columns = await _columns(conn, table)
                old = sql.SQL("({}) AND tenant_id <> ALL(%(held)s)").format(sql.SQL(_OLD[table]))
                hot, archive = sql.Identifier("public", table), sql.Identifier("archive", table)
                async with conn.transaction():
                    if policy["purge"]:
                        statement = sql.SQL(
                            "WITH moved AS (DELETE FROM {hot} WHERE {old} RETURNING *), "
                            "stored AS (INSERT INTO {archive} ({columns}) SELECT {columns} "
                            "FROM moved ON CONFLICT DO NOTHING RETURNING 1) "
                            "SELECT (SELECT count(*) FROM stored) AS archived, "
                            "(SELECT count(*) FROM moved) AS purged"
                        )
                    else:  # money and accountability: copied, never removed
                        statement = sql.SQL(
                            "WITH stored AS (INSERT INTO {archive} ({columns}) SELECT {columns} "
                            "FROM {hot} WHERE {old} ON CONFLICT DO NOTHING RETURNING 1) "
                            "SELECT count(*) AS archived, 0 AS purged FROM stored"
                        )
                    counts = await (
                        await conn.execute(
                            statement.format(hot=hot, archive=archive, columns=columns, old=old),
                            {"cutoff": cutoff, "held": held},
                        )
                    ).fetchone()
                    assert counts is not None
                    archived, purged = int(counts["archived"]), int(counts["purged"])
                    await conn.execute(
                        "INSERT INTO retention_runs (data_class, cutoff, archived, purged, "
                        "held_tenants) VALUES (%s, %s, %s, %s, %s)",
                        (table, cutoff, archived, purged, held),
                    )
                results.append(RetentionResult(table, cutoff.isoformat(), archived, purged))
        return results
