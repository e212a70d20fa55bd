"""What the wallet's records say back, for the API: a student's balance and recent movements,
a school's kiosk payments, one payment's or top-up's receipt once it is decided, and (after
a restore of the database) whether a movement is recorded and which of a kiosk's synced
sales are not.

Read only: payments and top-ups are written by the wallet's activities (payments.py), refunds
and voids by refunds.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from activities.wallet.payments import find_payment, find_topup, receipt_from_row
from core.db import Pool
from core.wallet.types import PaymentRequest, Receipt, TopUpRequest


@dataclass(frozen=True)
class Movement:
    """A purchase or a top-up, as a guardian sees it in the wallet's history."""

    kind: str  # purchase | topup
    reference: str  # the kiosk's transaction id, or the bank's top-up id
    amount: Decimal
    status: str
    reason: str | None
    category_id: str | None
    at: datetime


@dataclass(frozen=True)
class WalletStatement:
    display_name: str
    school_id: str
    status: str
    balance: Decimal
    movements: list[Movement]  # newest first


@dataclass(frozen=True)
class SchoolPayment:
    kiosk_id: str
    kiosk_tx_id: str
    student_id: str
    amount: Decimal
    category_id: str | None
    auth_method: str
    status: str
    reason: str | None
    reason_code: str | None
    created_at: datetime


class Statements:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def wallet(self, tenant: str, student_id: str, limit: int) -> WalletStatement | None:
        """The student's balance now and their last `limit` movements; None if there is no
        such student."""
        async with self.pool.connection() as conn:
            student = await (
                await conn.execute(
                    """SELECT s.display_name, s.school_id, s.status, b.balance FROM students s
                       JOIN ledger_balances b ON b.tenant_id = s.tenant_id
                        AND b.account_id = s.account_id
                       WHERE s.tenant_id = %s AND s.id = %s""",
                    (tenant, student_id),
                )
            ).fetchone()
            if student is None:
                return None
            rows = await (
                await conn.execute(
                    """(SELECT 'purchase' AS kind, kiosk_tx_id AS reference, amount, status,
                               reason, category_id, created_at FROM payments
                        WHERE tenant_id = %(t)s AND student_id = %(s)s)
                       UNION ALL
                       (SELECT 'topup', id, amount, status, reason, NULL, created_at FROM topups
                        WHERE tenant_id = %(t)s AND student_id = %(s)s)
                       ORDER BY created_at DESC LIMIT %(n)s""",
                    {"t": tenant, "s": student_id, "n": limit},
                )
            ).fetchall()
        return WalletStatement(
            display_name=student["display_name"],
            school_id=student["school_id"],
            status=student["status"],
            balance=student["balance"],
            movements=[
                Movement(
                    kind=r["kind"],
                    reference=r["reference"],
                    amount=r["amount"],
                    status=r["status"],
                    reason=r["reason"],
                    category_id=r["category_id"],
                    at=r["created_at"],
                )
                for r in rows
            ],
        )

    async def school_payments(self, tenant: str, school_id: str, limit: int) -> list[SchoolPayment]:
        """The school's last `limit` kiosk payments, newest first."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    """SELECT kiosk_id, kiosk_tx_id, student_id, amount, category_id,
                              auth_method, status, reason, reason_code, created_at
                       FROM payments WHERE tenant_id = %s AND school_id = %s
                       ORDER BY created_at DESC LIMIT %s""",
                    (tenant, school_id, limit),
                )
            ).fetchall()
        return [SchoolPayment(**row) for row in rows]

    async def payment_receipt(self, tenant: str, kiosk_id: str, kiosk_tx_id: str) -> Receipt | None:
        """The kiosk's payment's receipt, with the student's balance now; None if it has not
        been decided (or never came)."""
        async with self.pool.connection() as conn:
            row = await find_payment(conn, tenant, kiosk_id, kiosk_tx_id)
        return None if row is None else receipt_from_row(kiosk_tx_id, row)

    async def topup_receipt(self, tenant: str, topup_id: str) -> Receipt | None:
        """The top-up's receipt, with the student's balance now; None if it has not been
        decided (or never came)."""
        async with self.pool.connection() as conn:
            row = await find_topup(conn, tenant, topup_id)
        return None if row is None else receipt_from_row(topup_id, row)

    async def recorded(self, request: PaymentRequest | TopUpRequest) -> bool:
        """Whether the database holds the payment's or top-up's row: written in the same
        transaction as its posting (or its decline), so without it nothing was posted."""
        async with self.pool.connection() as conn:
            if isinstance(request, PaymentRequest):
                cur = await conn.execute(
                    "SELECT 1 FROM payments WHERE tenant_id = %s AND kiosk_id = %s "
                    "AND kiosk_tx_id = %s",
                    (request.tenant_id, request.kiosk_id, request.kiosk_tx_id),
                )
            else:
                cur = await conn.execute(
                    "SELECT 1 FROM topups WHERE tenant_id = %s AND id = %s",
                    (request.tenant_id, request.topup_id),
                )
            return await cur.fetchone() is not None

    async def payments_missing(
        self, tenant: str, kiosk_id: str, kiosk_tx_ids: list[str]
    ) -> list[str]:
        """Which of the kiosk's transaction ids have no payment here (in the order given)."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    """SELECT t.id FROM unnest(%s::text[]) WITH ORDINALITY AS t(id, n)
                       WHERE NOT EXISTS (SELECT 1 FROM payments p WHERE p.tenant_id = %s
                                         AND p.kiosk_id = %s AND p.kiosk_tx_id = t.id)
                       ORDER BY t.n""",
                    (kiosk_tx_ids, tenant, kiosk_id),
                )
            ).fetchall()
        return [r["id"] for r in rows]
