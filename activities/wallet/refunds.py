"""Staff give money back: a refund (any approved purchase) or a void (a sale of the same
school day, e.g. rung up by mistake). Both return the whole amount to the wallet, mark the
payment, write the audit trail and tell the guardians, in one database transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from psycopg.types.json import Jsonb

from activities.wallet import notifications
from activities.wallet.directory import (
    Conflict,
    DirectoryError,
    NotFound,
    merchant_account,
    wallet_account,
)
from activities.wallet.ledger import post_in, refund
from core.db import Pool

Action = Literal["refund", "void"]
_STATUS = {"refund": "refunded", "void": "voided"}


@dataclass(frozen=True)
class Reversal:
    kiosk_id: str
    kiosk_tx_id: str
    action: Action
    amount: str
    posting_id: str
    balance_after: str


class Refunds:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def reverse(
        self,
        tenant: str,
        school_id: str,
        kiosk_id: str,
        kiosk_tx_id: str,
        action: Action,
        reason: str,
        actor: str,
        actor_role: str,
    ) -> Reversal:
        if not reason.strip():
            raise DirectoryError(
                "say why (the reason is kept in the audit trail)", "reason_missing"
            )
        async with self.pool.connection() as conn, conn.transaction():
            row = await (
                await conn.execute(
                    """SELECT p.*, (p.created_at AT TIME ZONE sc.timezone)::date
                                  = (now() AT TIME ZONE sc.timezone)::date AS sold_today
                       FROM payments p
                       JOIN schools sc ON sc.tenant_id = p.tenant_id AND sc.id = p.school_id
                       WHERE p.tenant_id = %s AND p.kiosk_id = %s AND p.kiosk_tx_id = %s
                       FOR UPDATE OF p""",
                    (tenant, kiosk_id, kiosk_tx_id),
                )
            ).fetchone()
            if row is None or row["school_id"] != school_id:
                raise NotFound(
                    f"school {school_id!r} has no payment {kiosk_id}/{kiosk_tx_id}",
                    "no_payment",
                    school=school_id,
                    kiosk=kiosk_id,
                    payment=kiosk_tx_id,
                )
            if row["status"] != "approved":
                raise Conflict(
                    f"payment {kiosk_tx_id!r} is {row['status']}: nothing to give back",
                    "payment_not_approved",
                    payment=kiosk_tx_id,
                    payment_status=row["status"],
                )
            if action == "void" and not row["sold_today"]:
                raise Conflict(
                    "only today's sales can be voided; refund older ones", "void_not_today"
                )
            amount = Decimal(row["amount"])
            student = row["student_id"]
            entries = refund(wallet_account(student), merchant_account(row["merchant_id"]), amount)
            # debits the merchant's settlement account, which has no floor: cannot be refused
            posted = await post_in(
                conn,
                tenant,
                f"{action}:kiosk:{kiosk_id}:{kiosk_tx_id}",
                "refund",
                entries,
                memo=reason,
            )
            await conn.execute(
                "UPDATE payments SET status = %s WHERE tenant_id = %s AND kiosk_id = %s "
                "AND kiosk_tx_id = %s",
                (_STATUS[action], tenant, kiosk_id, kiosk_tx_id),
            )
            await conn.execute(
                """INSERT INTO audit_log (tenant_id, actor, actor_role, action, target, reason,
                       details) VALUES (%s, %s, %s, %s, %s, %s, %s)""",
                (
                    tenant,
                    actor,
                    actor_role,
                    f"payment.{action}",
                    f"payment:{kiosk_id}/{kiosk_tx_id}",
                    reason,
                    Jsonb(
                        {"amount": f"{amount:f}", "student": student, "posting": posted.posting_id}
                    ),
                ),
            )
            await notifications.notify_guardians(
                conn,
                tenant,
                student,
                f"payment_{_STATUS[action]}",
                {"kioskTxId": kiosk_tx_id, "amount": f"{amount:f}", "reason": reason},
                f"{action}:{kiosk_id}:{kiosk_tx_id}",
            )
            balance = await (
                await conn.execute(
                    "SELECT balance FROM ledger_balances WHERE tenant_id = %s AND account_id = %s",
                    (tenant, wallet_account(student)),
                )
            ).fetchone()
        assert balance is not None
        return Reversal(
            kiosk_id,
            kiosk_tx_id,
            action,
            f"{amount:f}",
            posted.posting_id,
            f"{Decimal(balance['balance']):f}",
        )
