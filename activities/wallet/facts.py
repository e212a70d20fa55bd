"""The facts a payment or top-up is decided on: the student's wallet, limits and spending,
the school's calendar and cap, the category's controls. One query each, read together by
the screening step (to authorise) and the monitoring features (for the school rules).

Days and weeks are the school's local ones: a limit resets at local midnight, weeks start
on Monday. Spending counts approved purchases (refunded and voided ones no longer count).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from core.wallet.authorisation import CategoryFacts, StudentFacts

_STUDENT_SQL = """
WITH student AS (
    SELECT s.id, s.status, s.school_id, s.account_id, sc.timezone, sc.canteen_opens,
           sc.canteen_closes, sc.balance_cap, sc.offline_student_cap,
           date_trunc('day', %(at)s AT TIME ZONE sc.timezone) AT TIME ZONE sc.timezone
               AS day_start,
           date_trunc('week', %(at)s AT TIME ZONE sc.timezone) AT TIME ZONE sc.timezone
               AS week_start,
           (%(at)s AT TIME ZONE sc.timezone)::time AS local_time
    FROM students s JOIN schools sc ON sc.tenant_id = s.tenant_id AND sc.id = s.school_id
    WHERE s.tenant_id = %(tenant)s AND s.id = %(student)s
)
SELECT st.*, b.balance, c.daily_limit, c.weekly_limit,
       coalesce((SELECT sum(p.amount) FROM payments p
                 WHERE p.tenant_id = %(tenant)s AND p.student_id = st.id
                   AND p.status = 'approved' AND p.created_at >= st.day_start), 0)
           AS spent_today,
       coalesce((SELECT sum(p.amount) FROM payments p
                 WHERE p.tenant_id = %(tenant)s AND p.student_id = st.id
                   AND p.status = 'approved' AND p.created_at >= st.week_start), 0)
           AS spent_this_week
FROM student st
JOIN ledger_balances b ON b.tenant_id = %(tenant)s AND b.account_id = st.account_id
LEFT JOIN student_controls c ON c.tenant_id = %(tenant)s AND c.student_id = st.id
"""

_CATEGORY_SQL = """
SELECT pc.name, coalesce(cc.blocked, false) AS blocked, cc.daily_limit,
       coalesce((SELECT sum(p.amount) FROM payments p
                 WHERE p.tenant_id = pc.tenant_id AND p.student_id = %(student)s
                   AND p.category_id = pc.id AND p.status = 'approved'
                   AND p.created_at >= %(day_start)s), 0) AS spent_today
FROM product_categories pc
LEFT JOIN student_category_controls cc
  ON cc.tenant_id = pc.tenant_id AND cc.category_id = pc.id AND cc.student_id = %(student)s
WHERE pc.tenant_id = %(tenant)s AND pc.id = %(category)s
"""


@dataclass(frozen=True)
class SchoolFacts:
    school_id: str
    account_id: str  # the student's wallet account
    canteen_opens: time
    canteen_closes: time
    local_time: time  # the movement's local time at the school
    day_start: datetime
    balance_cap: Decimal | None
    offline_student_cap: Decimal  # offline sales a day, across all kiosks


@dataclass(frozen=True)
class Facts:
    student: StudentFacts
    school: SchoolFacts | None  # None when the student does not exist


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


async def load_facts(
    conn: AsyncConnection[DictRow], tenant: str, student_id: str, at_ms: int
) -> Facts:
    at = datetime.fromtimestamp(at_ms / 1000, UTC)
    row = await (
        await conn.execute(_STUDENT_SQL, {"tenant": tenant, "student": student_id, "at": at})
    ).fetchone()
    if row is None:
        return Facts(StudentFacts(exists=False), None)
    student = StudentFacts(
        exists=True,
        status=row["status"],
        school_id=row["school_id"],
        balance=Decimal(row["balance"]),
        daily_limit=_decimal(row["daily_limit"]),
        weekly_limit=_decimal(row["weekly_limit"]),
        spent_today=Decimal(row["spent_today"]),
        spent_this_week=Decimal(row["spent_this_week"]),
    )
    school = SchoolFacts(
        school_id=row["school_id"],
        account_id=row["account_id"],
        canteen_opens=row["canteen_opens"],
        canteen_closes=row["canteen_closes"],
        local_time=row["local_time"],
        day_start=row["day_start"],
        balance_cap=_decimal(row["balance_cap"]),
        offline_student_cap=Decimal(row["offline_student_cap"]),
    )
    return Facts(student, school)


async def load_category(
    conn: AsyncConnection[DictRow],
    tenant: str,
    student_id: str,
    category_id: str,
    day_start: datetime,
) -> CategoryFacts | None:
    row = await (
        await conn.execute(
            _CATEGORY_SQL,
            {
                "tenant": tenant,
                "student": student_id,
                "category": category_id,
                "day_start": day_start,
            },
        )
    ).fetchone()
    if row is None:
        return None
    return CategoryFacts(
        name=row["name"],
        blocked=row["blocked"],
        daily_limit=_decimal(row["daily_limit"]),
        spent_today=Decimal(row["spent_today"]),
    )


def minute_of_day(value: time) -> int:
    return value.hour * 60 + value.minute
