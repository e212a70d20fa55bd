"""What the school office reads: the canteen's day (sales by kiosk and category, declines by
reason, each kiosk online or not with its journal), the students (search, status, wallet,
fingerprints), the kiosks with their merchants, and what kiosks report of their journal.

A day is the school's local day (its timezone); a kiosk is online when it has called Saku
within `ONLINE_WITHIN` (its agent calls every few seconds, and the API records it at most
once a minute).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from core.db import Pool

ONLINE_WITHIN = timedelta(minutes=3)
# a kiosk's journal report is written again at most this often when it has not changed
REPORT_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True)
class Tally:
    key: str  # a kiosk id, a category id ("" for none), or a decline's reason code
    label: str  # its name, or the reason as the child was told
    count: int
    amount: Decimal


@dataclass(frozen=True)
class KioskState:
    id: str
    name: str
    merchant_id: str
    active: bool
    online: bool
    last_seen_at: datetime | None
    last_synced_at: datetime | None
    journal_unsynced: int | None  # None: the kiosk has not reported it
    journal_unsynced_amount: Decimal | None
    journal_reported_at: datetime | None


@dataclass(frozen=True)
class CanteenDay:
    day: str  # the school's local date, YYYY-MM-DD
    sales: Tally  # every approved sale (refunded and voided ones not counted)
    by_kiosk: list[Tally]
    by_category: list[Tally]
    declines: list[Tally]
    refunded: Tally
    kiosks: list[KioskState]


@dataclass(frozen=True)
class StudentRow:
    id: str
    display_name: str
    grade: str | None
    status: str
    balance: Decimal
    fingers: int  # enrolled fingerprints


class SchoolOffice:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def school_name(self, tenant: str, school_id: str) -> str | None:
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT name FROM schools WHERE tenant_id = %s AND id = %s",
                    (tenant, school_id),
                )
            ).fetchone()
        return None if row is None else str(row["name"])

    async def canteen_day(self, tenant: str, school_id: str) -> CanteenDay:
        """Today at the school's canteen, in the school's own timezone."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    """WITH today AS (
                           SELECT p.*, (now() AT TIME ZONE sc.timezone)::date AS day
                           FROM payments p
                           JOIN schools sc ON sc.tenant_id = p.tenant_id AND sc.id = p.school_id
                           WHERE p.tenant_id = %(t)s AND p.school_id = %(s)s
                             AND p.created_at >= (date_trunc('day', now() AT TIME ZONE
                                 sc.timezone) AT TIME ZONE sc.timezone))
                       SELECT 'kiosk' AS what, t.kiosk_id AS key, coalesce(k.name, t.kiosk_id)
                              AS label, count(*) AS n, sum(t.amount) AS amount
                         FROM today t LEFT JOIN kiosks k
                           ON k.tenant_id = t.tenant_id AND k.id = t.kiosk_id
                        WHERE t.status = 'approved' GROUP BY t.kiosk_id, k.name
                       UNION ALL
                       SELECT 'category', coalesce(t.category_id, ''),
                              coalesce(c.name, t.category_id, ''), count(*), sum(t.amount)
                         FROM today t LEFT JOIN product_categories c
                           ON c.tenant_id = t.tenant_id AND c.id = t.category_id
                        WHERE t.status = 'approved' GROUP BY t.category_id, c.name
                       UNION ALL
                       SELECT 'decline', coalesce(t.reason_code, ''), min(t.reason), count(*),
                              sum(t.amount)
                         FROM today t WHERE t.status = 'declined' GROUP BY t.reason_code
                       UNION ALL
                       SELECT 'reversed', '', '', count(*), coalesce(sum(t.amount), 0)
                         FROM today t WHERE t.status IN ('refunded', 'voided')
                       UNION ALL
                       SELECT 'day', '', (now() AT TIME ZONE sc.timezone)::date::text, 0, 0
                         FROM schools sc WHERE sc.tenant_id = %(t)s AND sc.id = %(s)s""",
                    {"t": tenant, "s": school_id},
                )
            ).fetchall()
        tallies: dict[str, list[Tally]] = {}
        day = ""
        for row in rows:
            if row["what"] == "day":
                day = row["label"]
                continue
            tally = Tally(row["key"], row["label"] or "", int(row["n"]), Decimal(row["amount"]))
            tallies.setdefault(row["what"], []).append(tally)

        def ordered(what: str) -> list[Tally]:
            return sorted(tallies.get(what, []), key=lambda t: (-t.amount, t.label))

        by_kiosk = ordered("kiosk")
        reversed_ = tallies.get("reversed", [Tally("", "", 0, Decimal(0))])[0]
        return CanteenDay(
            day=day,
            sales=Tally(
                "",
                "",
                sum(t.count for t in by_kiosk),
                sum((t.amount for t in by_kiosk), Decimal(0)),
            ),
            by_kiosk=by_kiosk,
            by_category=ordered("category"),
            declines=sorted(tallies.get("decline", []), key=lambda t: (-t.count, t.key)),
            refunded=reversed_,
            kiosks=await self.kiosks(tenant, school_id),
        )

    async def kiosks(self, tenant: str, school_id: str) -> list[KioskState]:
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    """SELECT id, name, merchant_id, active, last_seen_at, last_synced_at,
                              journal_unsynced, journal_unsynced_amount, journal_reported_at,
                              coalesce(last_seen_at > now() - %s, false) AS online
                       FROM kiosks WHERE tenant_id = %s AND school_id = %s ORDER BY name, id""",
                    (ONLINE_WITHIN, tenant, school_id),
                )
            ).fetchall()
        return [
            KioskState(
                id=r["id"],
                name=r["name"],
                merchant_id=r["merchant_id"],
                active=r["active"],
                online=r["online"] and r["active"],
                last_seen_at=r["last_seen_at"],
                last_synced_at=r["last_synced_at"],
                journal_unsynced=r["journal_unsynced"],
                journal_unsynced_amount=(
                    None
                    if r["journal_unsynced_amount"] is None
                    else Decimal(r["journal_unsynced_amount"])
                ),
                journal_reported_at=r["journal_reported_at"],
            )
            for r in rows
        ]

    async def merchants(self, tenant: str, school_id: str) -> list[tuple[str, str]]:
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT id, name FROM merchants WHERE tenant_id = %s AND school_id = %s "
                    "ORDER BY name, id",
                    (tenant, school_id),
                )
            ).fetchall()
        return [(r["id"], r["name"]) for r in rows]

    async def students(
        self, tenant: str, school_id: str, query: str = "", status: str = "", limit: int = 50
    ) -> list[StudentRow]:
        """The school's students whose id, name or grade contains `query` (any case), of
        `status` if given, by name."""
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return await self._students(
            """AND (s.id ILIKE %s OR s.display_name ILIKE %s OR coalesce(s.grade, '') ILIKE %s)
               AND (%s = '' OR s.status = %s)
               ORDER BY s.display_name, s.id LIMIT %s""",
            (tenant, school_id, pattern, pattern, pattern, status, status, limit),
        )

    async def student(self, tenant: str, school_id: str, student_id: str) -> StudentRow | None:
        """One of the school's students (None: no such student in this school)."""
        found = await self._students("AND s.id = %s", (tenant, school_id, student_id))
        return found[0] if found else None

    async def _students(self, condition: str, params: tuple[object, ...]) -> list[StudentRow]:
        """The school's students (tenant and school are the first two parameters) that meet
        `condition` (more SQL after the WHERE, with its parameters after those two)."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    f"""SELECT s.id, s.display_name, s.grade, s.status,
                               coalesce(b.balance, 0) AS balance,
                               (SELECT count(*) FROM biometric_templates bt
                                 WHERE bt.tenant_id = s.tenant_id AND bt.student_id = s.id)
                               AS fingers
                        FROM students s
                        LEFT JOIN ledger_balances b
                          ON b.tenant_id = s.tenant_id AND b.account_id = s.account_id
                        WHERE s.tenant_id = %s AND s.school_id = %s {condition}""",
                    params,
                )
            ).fetchall()
        return [
            StudentRow(
                id=r["id"],
                display_name=r["display_name"],
                grade=r["grade"],
                status=r["status"],
                balance=Decimal(r["balance"]),
                fingers=int(r["fingers"]),
            )
            for r in rows
        ]

    async def report_journal(
        self, tenant: str, kiosk_id: str, unsynced: int, amount: Decimal
    ) -> None:
        """What the kiosk says its journal holds unsynced; written when it changes, or at
        most once per REPORT_INTERVAL when it does not (a write per request costs more)."""
        async with self.pool.connection() as conn:
            await conn.execute(
                """UPDATE kiosks SET journal_unsynced = %s, journal_unsynced_amount = %s,
                          journal_reported_at = now()
                   WHERE tenant_id = %s AND id = %s
                     AND (journal_unsynced IS DISTINCT FROM %s
                          OR journal_unsynced_amount IS DISTINCT FROM %s
                          OR journal_reported_at IS NULL OR journal_reported_at < now() - %s)""",
                (unsynced, amount, tenant, kiosk_id, unsynced, amount, REPORT_INTERVAL),
            )

    async def synced(self, tenant: str, kiosk_id: str) -> None:
        """The kiosk has just uploaded its offline journal."""
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE kiosks SET last_synced_at = now() WHERE tenant_id = %s AND id = %s",
                (tenant, kiosk_id),
            )
