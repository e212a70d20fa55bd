"""What the guardian portal reads and changes for a guardian's children: each child's
wallet against its limits, the itemised history, the auto top-up setting and its requests,
money moved between siblings, the notifications inbox, and the child's kiosk PIN.

Callers decide who may see which child (api/web/guardian.py); every change here is audited
in `audit_log` in the same transaction as the change.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from activities.wallet.directory import NotFound, audit, debt_account, wallet_account
from activities.wallet.facts import load_facts
from activities.wallet.ledger import InsufficientFunds, LedgerError, post_in, transfer
from core.db import Pool
from core.security import hash_pin
from core.wallet.authorisation import effective_cap


class PortalRefused(ValueError):
    """A change the portal cannot make; the message says why (in English words for the
    guardian), and `code` (with `values`) says it for pages to word in their language."""

    def __init__(self, message: str, code: str, **values: object) -> None:
        super().__init__(message)
        self.code = code
        self.values = values


@dataclass(frozen=True)
class Child:
    student_id: str
    display_name: str
    school_name: str
    status: str
    balance: Decimal
    debt: Decimal  # owed for offline sales the wallet could not cover
    spent_today: Decimal
    spent_this_week: Decimal
    daily_limit: Decimal | None
    weekly_limit: Decimal | None
    low_balance_threshold: Decimal | None
    cap: Decimal  # the e-money cap on the wallet
    virtual_account: str

    @property
    def low(self) -> bool:
        threshold = self.low_balance_threshold
        return threshold is not None and self.balance < threshold


@dataclass(frozen=True)
class HistoryRow:
    kind: str  # purchase | topup | transfer_in | transfer_out
    reference: str
    amount: Decimal
    status: str  # approved | declined | refunded | voided | credited | moved
    reason: str | None  # as the child was told it (English)
    reason_code: str | None
    kiosk: str | None
    category: str | None
    offline: bool
    debt: Decimal
    at: datetime


@dataclass(frozen=True)
class AutoTopUp:
    below: Decimal
    amount: Decimal


@dataclass(frozen=True)
class TopUpAsked:
    id: str
    amount: Decimal
    status: str  # pending | sent | credited | declined (the bank's answer, once it came)
    at: datetime


@dataclass(frozen=True)
class Transfer:
    id: str  # the guardian's request id (the API's Idempotency-Key)
    from_student: str
    to_student: str
    amount: Decimal
    at: datetime


@dataclass(frozen=True)
class Notice:
    id: int
    student_id: str
    kind: str
    payload: dict[str, Any]
    at: datetime
    read: bool


HISTORY_KINDS = ("purchase", "topup", "transfer")

_HISTORY_SQL = """
SELECT * FROM (
    SELECT 'purchase' AS kind, p.kiosk_tx_id AS reference, p.amount, p.status, p.reason,
           p.reason_code, k.name AS kiosk, pc.name AS category, p.offline, p.debt,
           p.created_at AS at
      FROM payments p
      LEFT JOIN kiosks k ON k.tenant_id = p.tenant_id AND k.id = p.kiosk_id
      LEFT JOIN product_categories pc ON pc.tenant_id = p.tenant_id AND pc.id = p.category_id
     WHERE p.tenant_id = %(t)s AND p.student_id = %(s)s
    UNION ALL
    SELECT 'topup', id, amount, status, reason, reason_code, NULL, NULL, false, 0, created_at
      FROM topups WHERE tenant_id = %(t)s AND student_id = %(s)s
    UNION ALL
    SELECT CASE WHEN from_student = %(s)s THEN 'transfer_out' ELSE 'transfer_in' END,
           id, amount, 'moved', NULL, NULL, NULL, NULL, false, 0, created_at
      FROM wallet_transfers
     WHERE tenant_id = %(t)s AND (from_student = %(s)s OR to_student = %(s)s)
) h
WHERE (%(kind)s::text IS NULL OR h.kind LIKE %(kind)s || '%%')
  AND (%(since)s::timestamptz IS NULL OR h.at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR h.at < %(until)s)
ORDER BY h.at DESC, h.reference DESC
LIMIT %(n)s
"""


_TRANSFER_SQL = """SELECT id, from_student, to_student, amount, created_at AS at
                     FROM wallet_transfers"""


class Portal:
    def __init__(self, pool: Pool, default_cap: Decimal) -> None:
        self.pool = pool
        self.default_cap = default_cap

    async def guardian_of(self, tenant: str, user_id: str) -> tuple[str, str] | None:
        """The guardian record (id, display name) that signs in as this user, if any."""
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT id, display_name FROM guardians "
                    "WHERE tenant_id = %s AND user_id::text = %s",
                    (tenant, user_id),
                )
            ).fetchone()
        return None if row is None else (str(row["id"]), str(row["display_name"]))

    async def children(self, tenant: str, student_ids: tuple[str, ...]) -> list[Child]:
        """These students' wallets as their guardian sees them, by name."""
        now_ms = int(time.time() * 1000)
        found = []
        async with self.pool.connection() as conn:
            for student_id in student_ids:
                facts = await load_facts(conn, tenant, student_id, now_ms)
                if facts.school is None:
                    continue
                row = await (
                    await conn.execute(
                        """SELECT s.display_name, s.virtual_account, sc.name AS school_name,
                                  c.low_balance_threshold,
                                  coalesce((SELECT -sum(e.amount) FROM ledger_entries e
                                            WHERE e.tenant_id = s.tenant_id
                                              AND e.account_id = %s), 0) AS debt
                             FROM students s
                             JOIN schools sc ON sc.tenant_id = s.tenant_id
                              AND sc.id = s.school_id
                             LEFT JOIN student_controls c ON c.tenant_id = s.tenant_id
                              AND c.student_id = s.id
                            WHERE s.tenant_id = %s AND s.id = %s""",
                        (debt_account(student_id), tenant, student_id),
                    )
                ).fetchone()
                assert row is not None
                student = facts.student
                found.append(
                    Child(
                        student_id=student_id,
                        display_name=row["display_name"],
                        school_name=row["school_name"],
                        status=student.status,
                        balance=student.balance,
                        debt=max(Decimal(row["debt"]), Decimal(0)),
                        spent_today=student.spent_today,
                        spent_this_week=student.spent_this_week,
                        daily_limit=student.daily_limit,
                        weekly_limit=student.weekly_limit,
                        low_balance_threshold=row["low_balance_threshold"],
                        cap=effective_cap(self.default_cap, facts.school.balance_cap),
                        virtual_account=row["virtual_account"],
                    )
                )
        return sorted(found, key=lambda c: (c.display_name, c.student_id))

    async def history(
        self,
        tenant: str,
        student_id: str,
        *,
        kind: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 200,
    ) -> list[HistoryRow]:
        """The child's movements, newest first: purchases (kiosk, category, offline, debt),
        top-ups, transfers with siblings; `kind` one of HISTORY_KINDS."""
        params = {"t": tenant, "s": student_id, "kind": kind, "since": since, "until": until}
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(_HISTORY_SQL, params | {"n": limit})).fetchall()
        return [HistoryRow(**row) for row in rows]

    # --- auto top-up -------------------------------------------------------------------

    async def auto_topup(self, tenant: str, student_id: str) -> AutoTopUp | None:
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT below, amount FROM student_auto_topups "
                    "WHERE tenant_id = %s AND student_id = %s",
                    (tenant, student_id),
                )
            ).fetchone()
        return None if row is None else AutoTopUp(row["below"], row["amount"])

    async def set_auto_topup(
        self, tenant: str, student_id: str, setting: AutoTopUp | None, by: str, role: str
    ) -> None:
        """Set (or, with None, switch off) the child's auto top-up, audited."""
        async with self.pool.connection() as conn, conn.transaction():
            if setting is None:
                await conn.execute(
                    "DELETE FROM student_auto_topups WHERE tenant_id = %s AND student_id = %s",
                    (tenant, student_id),
                )
                details: dict[str, Any] = {"off": True}
            else:
                await conn.execute(
                    """INSERT INTO student_auto_topups (tenant_id, student_id, below, amount,
                                                        updated_by)
                       VALUES (%s, %s, %s, %s, %s)
                       ON CONFLICT (tenant_id, student_id) DO UPDATE SET
                           below = EXCLUDED.below, amount = EXCLUDED.amount,
                           updated_by = EXCLUDED.updated_by, updated_at = now()""",
                    (tenant, student_id, setting.below, setting.amount, by),
                )
                details = {"below": f"{setting.below:f}", "amount": f"{setting.amount:f}"}
            await audit(conn, tenant, by, role, "auto_topup.set", f"student:{student_id}", details)

    async def topups_asked(self, tenant: str, student_id: str, limit: int = 10) -> list[TopUpAsked]:
        """The child's latest auto top-up requests, with the bank's answer once it came."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    """SELECT r.id, r.amount, coalesce(t.status, r.status) AS status,
                              r.created_at AS at
                         FROM topup_requests r
                         LEFT JOIN topups t ON t.tenant_id = r.tenant_id AND t.id = r.id
                        WHERE r.tenant_id = %s AND r.student_id = %s
                        ORDER BY r.created_at DESC LIMIT %s""",
                    (tenant, student_id, limit),
                )
            ).fetchall()
        return [TopUpAsked(**row) for row in rows]

    # --- siblings ----------------------------------------------------------------------

    async def move(
        self,
        tenant: str,
        guardian_id: str,
        request_id: str,
        from_student: str,
        to_student: str,
        amount: Decimal,
        by: str,
    ) -> bool:
        """Move `amount` from one child's wallet to a sibling's (both the guardian's: the
        caller checks), posted to the ledger once per `request_id`; False if this request
        was carried out before. Refused (PortalRefused) if the wallet lacks the money, the
        sibling's wallet would pass its e-money cap, or the sibling has left (their wallet
        is closed)."""
        if from_student == to_student:
            raise PortalRefused("choose two different children", "same_child")
        try:
            async with self.pool.connection() as conn, conn.transaction():
                # both wallets locked in a fixed order: two opposite transfers cannot deadlock;
                # and locked before the request is looked up, so the same request sent twice
                # at once finds, in its second copy, the transfer the first one made
                wallets = sorted([wallet_account(from_student), wallet_account(to_student)])
                await conn.execute(
                    "SELECT 1 FROM ledger_balances WHERE tenant_id = %s "
                    "AND account_id = ANY(%s) ORDER BY account_id FOR UPDATE",
                    (tenant, wallets),
                )
                done = await (
                    await conn.execute(
                        "SELECT from_student, to_student, amount FROM wallet_transfers "
                        "WHERE tenant_id = %s AND id = %s",
                        (tenant, request_id),
                    )
                ).fetchone()
                if done is not None:
                    if (done["from_student"], done["to_student"], done["amount"]) != (
                        from_student,
                        to_student,
                        amount,
                    ):
                        raise PortalRefused(
                            "this request id was used for another transfer", "request_reused"
                        )
                    return False
                to = await (
                    await conn.execute(
                        """SELECT s.status, b.balance, sc.balance_cap FROM students s
                           JOIN ledger_balances b ON b.tenant_id = s.tenant_id
                            AND b.account_id = s.account_id
                           JOIN schools sc ON sc.tenant_id = s.tenant_id AND sc.id = s.school_id
                           WHERE s.tenant_id = %s AND s.id = %s""",
                        (tenant, to_student),
                    )
                ).fetchone()
                if to is None:
                    raise NotFound(f"no student {to_student!r}")
                if to["status"] == "left":  # closed: paid out, no more payments or top-ups
                    raise PortalRefused(
                        "that child has left the school: their wallet is closed", "sibling_left"
                    )
                cap = effective_cap(self.default_cap, to["balance_cap"])
                if Decimal(to["balance"]) + amount > cap:
                    raise PortalRefused(
                        f"the sibling's wallet would pass its limit of {cap:,.0f}",
                        "sibling_cap",
                        cap=cap,
                    )
                entries = transfer(wallet_account(from_student), wallet_account(to_student), amount)
                posted = await post_in(conn, tenant, f"transfer:{request_id}", "transfer", entries)
                await conn.execute(
                    """INSERT INTO wallet_transfers (tenant_id, id, guardian_id, from_student,
                           to_student, amount, posting_id) VALUES (%s, %s, %s, %s, %s, %s, %s)""",
                    (
                        tenant,
                        request_id,
                        guardian_id,
                        from_student,
                        to_student,
                        amount,
                        posted.posting_id,
                    ),
                )
                await audit(
                    conn,
                    tenant,
                    by,
                    "guardian",
                    "wallet.transfer",
                    f"student:{from_student}",
                    {"to": to_student, "amount": f"{amount:f}", "request_id": request_id},
                )
        except InsufficientFunds as err:
            raise PortalRefused(
                "there is not enough money in that wallet", "insufficient_funds"
            ) from err
        except LedgerError as err:
            raise PortalRefused(str(err), "ledger") from err
        return True

    async def transfer(self, tenant: str, request_id: str) -> Transfer | None:
        """The transfer made for this request id, if any."""
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    f"{_TRANSFER_SQL} WHERE tenant_id = %s AND id = %s",
                    (tenant, request_id),
                )
            ).fetchone()
        return None if row is None else Transfer(**row)

    async def transfers(
        self, tenant: str, student_ids: tuple[str, ...], limit: int = 50
    ) -> list[Transfer]:
        """The latest transfers between these children (both of them among `student_ids`:
        a guardian learns nothing of a child they do not look after), newest first."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    f"""{_TRANSFER_SQL}
                        WHERE tenant_id = %(t)s AND from_student = ANY(%(s)s)
                          AND to_student = ANY(%(s)s)
                        ORDER BY created_at DESC, id DESC LIMIT %(n)s""",
                    {"t": tenant, "s": list(student_ids), "n": limit},
                )
            ).fetchall()
        return [Transfer(**row) for row in rows]

    # --- notifications -----------------------------------------------------------------

    async def inbox(
        self,
        tenant: str,
        guardian_id: str,
        limit: int = 100,
        *,
        before: int | None = None,
        unread_only: bool = False,
    ) -> list[Notice]:
        """The guardian's notifications, newest first: `limit` of them, those older than
        notice `before` when given (the next page), only unread ones if asked."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    """SELECT id, student_id, kind, payload, created_at AS at,
                              read_at IS NOT NULL AS read
                         FROM guardian_inbox WHERE tenant_id = %s AND guardian_id = %s
                          AND (%s::bigint IS NULL OR id < %s)
                          AND (NOT %s OR read_at IS NULL)
                        ORDER BY id DESC LIMIT %s""",
                    (tenant, guardian_id, before, before, unread_only, limit),
                )
            ).fetchall()
        return [Notice(**row) for row in rows]

    async def notice(self, tenant: str, guardian_id: str, notice_id: int) -> Notice | None:
        """One of the guardian's notifications (None: not theirs, or none)."""
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    """SELECT id, student_id, kind, payload, created_at AS at,
                              read_at IS NOT NULL AS read
                         FROM guardian_inbox
                        WHERE tenant_id = %s AND guardian_id = %s AND id = %s""",
                    (tenant, guardian_id, notice_id),
                )
            ).fetchone()
        return None if row is None else Notice(**row)

    async def unread(self, tenant: str, guardian_id: str) -> int:
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT count(*) AS n FROM guardian_inbox "
                    "WHERE tenant_id = %s AND guardian_id = %s AND read_at IS NULL",
                    (tenant, guardian_id),
                )
            ).fetchone()
        return int(row["n"]) if row else 0

    async def mark(
        self, tenant: str, guardian_id: str, notice_id: int | None, *, read: bool
    ) -> int:
        """Mark one notice (or, with None, all of them) read or unread; how many of the
        guardian's notices there were to mark (0: no such notice of theirs)."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                """UPDATE guardian_inbox SET read_at = CASE WHEN %s THEN now() END
                    WHERE tenant_id = %s AND guardian_id = %s
                      AND (%s::bigint IS NULL OR id = %s)""",
                (read, tenant, guardian_id, notice_id, notice_id),
            )
            return cur.rowcount

    # --- the child's PIN ---------------------------------------------------------------

    async def reset_pin(self, tenant: str, student_id: str, pin: str, by: str, role: str) -> None:
        """A new kiosk PIN for the child (hashed; audited without the PIN)."""
        try:
            # argon2id with 64 MiB is slow on purpose: off the event loop
            pin_hash = await asyncio.to_thread(hash_pin, pin)
        except ValueError as err:
            raise PortalRefused(str(err), "pin_invalid") from err
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "UPDATE students SET pin_hash = %s WHERE tenant_id = %s AND id = %s",
                (pin_hash, tenant, student_id),
            )
            if cur.rowcount != 1:
                raise NotFound(f"no student {student_id!r}")
            await audit(conn, tenant, by, role, "pin.reset", f"student:{student_id}", {})
