"""The query that feeds the school rules (s01-s12): a kiosk purchase's or top-up's student,
limits, spending, canteen hours, kiosk, operator and payer counts.

Bank messages carry no school and get no context (their school rules exit .x01).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from activities.wallet.facts import load_facts, minute_of_day
from core.monitoring.transactions import MS_PER_DAY, SchoolContext, Transaction, TxType
from core.wallet.authorisation import effective_cap

_COUNTS_SQL = """
SELECT
    (SELECT school_id FROM kiosks WHERE tenant_id = %(tenant)s AND id = %(kiosk)s)
        AS kiosk_school_id,
    (SELECT count(*) FROM audit_log
     WHERE tenant_id = %(tenant)s AND actor = %(operator)s AND at >= %(day_start)s)
        AS operator_actions_today,
    (SELECT count(DISTINCT payer_account) FROM topups
     WHERE tenant_id = %(tenant)s AND student_id = %(student)s AND status = 'credited'
       AND created_at >= %(since)s) AS distinct_payers_30d,
    -- money that came in by top-up and went back out by refund: laundering through a wallet
    (SELECT count(*) FROM payments
     WHERE tenant_id = %(tenant)s AND student_id = %(student)s
       AND status IN ('refunded', 'voided') AND created_at >= %(since)s)
        AS topup_refund_cycles_30d,
    -- offline sales replayed today from any kiosk, read from the history (written before
    -- the rules run), so of two replays racing each other at least the later sees both
    (SELECT coalesce(sum(e.amount), 0) FROM transaction_edges e
     JOIN raw_messages r ON r.tenant_id = e.tenant_id AND r.msg_id = e.msg_id
     WHERE e.tenant_id = %(tenant)s AND e.source_account = %(wallet)s
       AND e.created_at >= %(day_start)s AND e.msg_id <> %(msg)s AND r.channel = 'sync'
       AND e.status IS DISTINCT FROM 'RJCT') AS offline_spent_today
"""


def student_of(tx: Transaction) -> str:
    """Purchases are paid by the student; top-ups are paid to the student."""
    return tx.creditor_entity if tx.tx_type == TxType.TOP_UP else tx.debtor_entity


async def load_school_contexts(
    conn: AsyncConnection[DictRow],
    tenant: str,
    txs: Sequence[Transaction],
    default_balance_cap: Decimal,
) -> dict[str, SchoolContext]:
    contexts: dict[str, SchoolContext] = {}
    for tx in txs:
        if tx.school_id is None:
            continue
        student = student_of(tx)
        facts = await load_facts(conn, tenant, student, tx.created_at_ms)
        school = facts.school
        if school is None:
            continue
        since_ms = tx.created_at_ms - 30 * MS_PER_DAY
        counts = await (
            await conn.execute(
                _COUNTS_SQL,
                {
                    "tenant": tenant,
                    "kiosk": tx.kiosk_id,
                    "operator": tx.operator_id,
                    "student": student,
                    "wallet": school.account_id,
                    "msg": tx.msg_id,
                    "day_start": school.day_start,
                    "since": datetime.fromtimestamp(since_ms / 1000, UTC),
                },
            )
        ).fetchone()
        assert counts is not None
        cap = effective_cap(default_balance_cap, school.balance_cap)
        contexts[tx.msg_id] = SchoolContext(
            student_id=student,
            student_school_id=school.school_id,
            kiosk_school_id=counts["kiosk_school_id"],
            daily_limit=_float(facts.student.daily_limit),
            weekly_limit=_float(facts.student.weekly_limit),
            spent_today=float(facts.student.spent_today),
            spent_this_week=float(facts.student.spent_this_week),
            canteen_opens_minute=minute_of_day(school.canteen_opens),
            canteen_closes_minute=minute_of_day(school.canteen_closes),
            local_minute_of_day=minute_of_day(school.local_time),
            operator_actions_today=int(counts["operator_actions_today"]),
            distinct_payers_30d=int(counts["distinct_payers_30d"]),
            topup_refund_cycles_30d=int(counts["topup_refund_cycles_30d"]),
            wallet_balance=float(facts.student.balance),
            balance_cap=float(cap),
            # an offline sale, replayed: with the day's offline sales synced before it, from
            # any kiosk (each kiosk enforces the cap only for its own sales)
            offline_spent_across_kiosks=float(counts["offline_spent_today"]) + tx.amount
            if tx.offline
            else 0.0,
            offline_cap=float(school.offline_student_cap),
        )
    return contexts


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)
