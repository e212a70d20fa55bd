"""A student who leaves: their wallet closes and what is left in it goes back to a guardian.

`Payouts.leave` does it in one database transaction: the student is marked as left (so
they can no longer pay), and the balance is posted from the wallet into the tenant's
payouts-pending account (money owed to the guardian until the bank pays it), recorded as a
payout request, audited, and the guardians are told. A student who has already left is
left as they are (a form sent twice pays out once). `PayoutActivities.send` then puts the
request on the bank-facing payouts topic (the `Payout` workflow runs it, so it is retried
until the bank has it) and marks it sent.

The bank answers on the payout-results topic (`Payouts.answer`, in one transaction): paid
(posted out of payouts pending to the bank's clearing account, marked with the bank's
reference) or rejected (with the bank's reason; the money stays owed in payouts pending);
audited, guardians told. Staff send a rejected payout again (`Payouts.send_again`): a new
payout, for the same money, that replaces it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb
from temporalio import activity

from activities.monitoring.alerts import AlertPublisher
from activities.wallet import notifications
from activities.wallet.directory import (
    TOPUP_CLEARING,
    Conflict,
    DirectoryError,
    NotFound,
    wallet_account,
)
from activities.wallet.ledger import payout, payout_paid, post_in
from core.db import Pool
from core.wallet.payouts import AnswerRefused, PayoutAnswer, PayoutState, takes
from core.wallet.types import PayoutRef

PAYOUTS_PENDING = "payouts:pending"


@dataclass(frozen=True)
class Payout:
    id: str
    student_id: str
    guardian_id: str
    guardian_name: str
    amount: Decimal
    reason: str
    status: str  # requested | sent | paid | rejected
    created_at: datetime
    sent_at: datetime | None
    bank_reference: str | None = None
    answered_at: datetime | None = None  # when the bank paid or rejected it
    rejection_reason: str | None = None
    replaces: str | None = None  # the rejected payout this one sends again
    replaced_by: str | None = None  # rejected, and sent again as this payout


@dataclass(frozen=True)
class Leaving:
    student_id: str
    payout: Payout | None  # None: the wallet was empty, nothing to pay back
    already_left: bool  # True: they had left before; nothing changed


@dataclass(frozen=True)
class SentAgain:
    payout: Payout  # the new payout
    created: bool  # False: it had been sent again before; nothing changed


@dataclass(frozen=True)
class ToSendAgain:
    """A rejected payout nobody has sent again yet, with its student's name."""

    payout: Payout
    student_name: str


_PAYOUT_COLUMNS = """p.id, p.student_id, p.guardian_id, g.display_name AS guardian_name,
    p.amount, p.reason, p.status, p.created_at, p.sent_at, p.bank_reference, p.answered_at,
    p.rejection_reason, p.replaces, p.replaced_by"""
_PAYOUTS = """payouts p JOIN guardians g ON g.tenant_id = p.tenant_id AND g.id = p.guardian_id"""


def _payout(row: DictRow) -> Payout:
    return Payout(
        id=row["id"],
        student_id=row["student_id"],
        guardian_id=row["guardian_id"],
        guardian_name=row["guardian_name"],
        amount=Decimal(row["amount"]),
        reason=row["reason"],
        status=row["status"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
        bank_reference=row["bank_reference"],
        answered_at=row["answered_at"],
        rejection_reason=row["rejection_reason"],
        replaces=row["replaces"],
        replaced_by=row["replaced_by"],
    )


async def _latest_payout(
    conn: AsyncConnection[DictRow], tenant: str, student_id: str
) -> Payout | None:
    row = await (
        await conn.execute(
            f"""SELECT {_PAYOUT_COLUMNS} FROM {_PAYOUTS}
                WHERE p.tenant_id = %s AND p.student_id = %s
                ORDER BY p.created_at DESC, p.id LIMIT 1""",
            (tenant, student_id),
        )
    ).fetchone()
    return None if row is None else _payout(row)


class Payouts:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def guardians(self, tenant: str, student_id: str) -> list[tuple[str, str]]:
        """The student's guardians: (id, display name), by name."""
        async with self.pool.connection() as conn:
            return await _guardians(conn, tenant, student_id)

    async def leave(
        self,
        tenant: str,
        school_id: str,
        student_id: str,
        guardian_id: str | None,
        reason: str,
        actor: str,
        actor_role: str,
    ) -> Leaving:
        """Mark the student as left and pay their balance back to a guardian (`guardian_id`,
        or their only guardian). Refuses, changing nothing, a balance with no guardian to
        pay it to, or a guardian who is not theirs."""
        if not reason.strip():
            raise DirectoryError(
                "say why the student leaves (kept in the audit trail)", "leave_reason_missing"
            )
        guardians = dict(await self.guardians(tenant, student_id))
        async with self.pool.connection() as conn, conn.transaction():
            student = await (
                await conn.execute(
                    "SELECT school_id, status FROM students WHERE tenant_id = %s AND id = %s "
                    "FOR UPDATE",
                    (tenant, student_id),
                )
            ).fetchone()
            if student is None or student["school_id"] != school_id:
                raise NotFound(
                    f"school {school_id!r} has no student {student_id!r}",
                    "no_student",
                    school=school_id,
                    student=student_id,
                )
            if student["status"] == "left":
                return Leaving(student_id, await _latest_payout(conn, tenant, student_id), True)
            await conn.execute(
                "UPDATE students SET status = 'left' WHERE tenant_id = %s AND id = %s",
                (tenant, student_id),
            )
            # the wallet's row is locked: a payment deciding now waits, then finds it empty
            row = await (
                await conn.execute(
                    "SELECT balance FROM ledger_balances WHERE tenant_id = %s AND account_id = %s "
                    "FOR UPDATE",
                    (tenant, wallet_account(student_id)),
                )
            ).fetchone()
            balance = Decimal(row["balance"]) if row else Decimal(0)
            paid = None
            if balance > 0:
                guardian = _payee(guardians, guardian_id, student_id)
                paid = await self._pay_out(
                    conn, tenant, student_id, guardian, balance, reason, actor
                )
            elif guardian_id is not None and guardian_id not in guardians:
                raise _not_their_guardian(guardian_id, student_id)
            await conn.execute(
                """INSERT INTO audit_log (tenant_id, actor, actor_role, action, target, reason,
                       details) VALUES (%s, %s, %s, 'student.leave', %s, %s, %s)""",
                (
                    tenant,
                    actor,
                    actor_role,
                    f"student:{student_id}",
                    reason,
                    Jsonb(
                        {"balance": f"{balance:f}", "payout": paid.id if paid else None}
                        | ({"guardian": paid.guardian_id} if paid else {})
                    ),
                ),
            )
            await notifications.notify_guardians(
                conn,
                tenant,
                student_id,
                "student_left",
                {
                    "amount": f"{balance:f}",
                    "payoutId": paid.id if paid else None,
                    "guardianId": paid.guardian_id if paid else None,
                },
                f"leave:{student_id}:{paid.id if paid else 'empty'}",
            )
        return Leaving(student_id, paid, False)

    async def _pay_out(
        self,
        conn: AsyncConnection[DictRow],
        tenant: str,
        student_id: str,
        guardian: tuple[str, str],
        amount: Decimal,
        reason: str,
        actor: str,
    ) -> Payout:
        await conn.execute(
            "INSERT INTO ledger_accounts (tenant_id, id, kind) VALUES (%s, %s, 'payouts_pending') "
            "ON CONFLICT DO NOTHING",
            (tenant, PAYOUTS_PENDING),
        )
        payout_id = _new_id()
        posted = await post_in(
            conn,
            tenant,
            f"payout:{payout_id}",
            "payout",
            payout(wallet_account(student_id), PAYOUTS_PENDING, amount),
            memo=reason,
        )
        return await _insert(
            conn, tenant, payout_id, student_id, guardian, amount, reason, actor, posted.posting_id
        )

    async def latest(self, tenant: str, student_id: str) -> Payout | None:
        async with self.pool.connection() as conn:
            return await _latest_payout(conn, tenant, student_id)

    async def get(self, tenant: str, payout_id: str) -> Payout | None:
        async with self.pool.connection() as conn:
            return await _get(conn, tenant, payout_id)

    async def mark_sent(self, tenant: str, payout_id: str) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE payouts SET status = 'sent', sent_at = now() "
                "WHERE tenant_id = %s AND id = %s AND status = 'requested'",
                (tenant, payout_id),
            )

    async def of_student(self, tenant: str, student_id: str) -> list[Payout]:
        """Every payout of the student, newest first (a rejected one sent again is followed
        by the payout that replaced it)."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    f"""SELECT {_PAYOUT_COLUMNS} FROM {_PAYOUTS}
                        WHERE p.tenant_id = %s AND p.student_id = %s
                        ORDER BY p.created_at DESC, p.id""",
                    (tenant, student_id),
                )
            ).fetchall()
        return [_payout(row) for row in rows]

    async def to_send_again(self, tenant: str, school_id: str, limit: int) -> list[ToSendAgain]:
        """The school's payouts the bank rejected and nobody has sent again, oldest first."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    f"""SELECT {_PAYOUT_COLUMNS}, s.display_name AS student_name
                        FROM {_PAYOUTS}
                        JOIN students s ON s.tenant_id = p.tenant_id AND s.id = p.student_id
                        WHERE p.tenant_id = %s AND s.school_id = %s
                          AND p.status = 'rejected' AND p.replaced_by IS NULL
                        ORDER BY p.answered_at, p.id LIMIT %s""",
                    (tenant, school_id, limit),
                )
            ).fetchall()
        return [ToSendAgain(_payout(row), row["student_name"]) for row in rows]

    async def answer(self, answer: PayoutAnswer) -> str:
        """Take the bank's answer: `paid` (posted out of payouts pending to the bank's
        clearing account) or `rejected` (the money stays owed); audited, guardians told.
        Returns the outcome, or "unchanged" for the same answer again. Raises AnswerRefused
        for an unknown payout or one that cannot take this answer (changing nothing)."""
        tenant = answer.tenant_id
        async with self.pool.connection() as conn, conn.transaction():
            row = await (
                await conn.execute(
                    """SELECT id, student_id, guardian_id, amount, status, bank_reference,
                              replaced_by
                       FROM payouts WHERE tenant_id = %s AND id = %s FOR UPDATE""",
                    (tenant, answer.payout_id),
                )
            ).fetchone()
            if row is None:
                raise AnswerRefused(f"tenant {tenant!r} has no payout {answer.payout_id!r}")
            amount = Decimal(row["amount"])
            state = PayoutState(
                row["id"], row["status"], amount, row["bank_reference"], row["replaced_by"]
            )
            if not takes(state, answer):
                return "unchanged"
            posting_id = None
            if answer.outcome == "paid":
                await conn.execute(
                    "INSERT INTO ledger_accounts (tenant_id, id, kind) "
                    "VALUES (%s, %s, 'topup_clearing') ON CONFLICT DO NOTHING",
                    (tenant, TOPUP_CLEARING),
                )
                posted = await post_in(
                    conn,
                    tenant,
                    f"payout-paid:{answer.payout_id}",
                    "payout_paid",
                    payout_paid(PAYOUTS_PENDING, TOPUP_CLEARING, amount),
                    memo=f"bank reference {answer.bank_reference}",
                )
                posting_id = posted.posting_id
            await conn.execute(
                """UPDATE payouts SET status = %s, bank_reference = %s,
                          answered_at = coalesce(%s, now()), rejection_reason = %s,
                          paid_posting_id = %s, sent_at = coalesce(sent_at, now())
                   WHERE tenant_id = %s AND id = %s""",
                (
                    answer.outcome,
                    answer.bank_reference,
                    answer.answered_at,
                    answer.reason if answer.outcome == "rejected" else None,
                    posting_id,
                    tenant,
                    answer.payout_id,
                ),
            )
            details: dict[str, str | None] = {
                "bankReference": answer.bank_reference,
                "amount": f"{amount:f}",
                "guardian": row["guardian_id"],
            }
            await conn.execute(
                """INSERT INTO audit_log (tenant_id, actor, actor_role, action, target, reason,
                       details) VALUES (%s, 'bank', 'bank', %s, %s, %s, %s)""",
                (
                    tenant,
                    f"payout.{answer.outcome}",
                    f"payout:{answer.payout_id}",
                    answer.reason or "the bank paid the guardian",
                    Jsonb(details | {"posting": posting_id}),
                ),
            )
            await notifications.notify_guardians(
                conn,
                tenant,
                row["student_id"],
                f"payout_{answer.outcome}",
                {
                    "payoutId": answer.payout_id,
                    "amount": f"{amount:f}",
                    "guardianId": row["guardian_id"],
                    "bankReference": answer.bank_reference,
                    "reason": answer.reason if answer.outcome == "rejected" else None,
                },
                f"payout-{answer.outcome}:{answer.payout_id}",
            )
        return answer.outcome

    async def send_again(
        self,
        tenant: str,
        school_id: str,
        payout_id: str,
        guardian_id: str | None,
        actor: str,
        actor_role: str,
    ) -> SentAgain:
        """A payout the bank rejected goes to the bank again as a new payout for the same
        money (still in payouts pending), to `guardian_id` (another of the student's
        guardians) or to the same guardian. Sent again before: that payout, nothing changes.
        Refuses a payout of another school (NotFound) or one not rejected (Conflict)."""
        async with self.pool.connection() as conn, conn.transaction():
            row = await (
                await conn.execute(
                    """SELECT p.student_id, p.guardian_id, p.amount, p.reason, p.status,
                              p.posting_id, p.rejection_reason, p.replaced_by, s.school_id
                       FROM payouts p
                       JOIN students s ON s.tenant_id = p.tenant_id AND s.id = p.student_id
                       WHERE p.tenant_id = %s AND p.id = %s FOR UPDATE OF p""",
                    (tenant, payout_id),
                )
            ).fetchone()
            if row is None or row["school_id"] != school_id:
                raise NotFound(
                    f"school {school_id!r} has no payout {payout_id!r}",
                    "no_payout",
                    school=school_id,
                    payout=payout_id,
                )
            if row["replaced_by"] is not None:
                again = await _get(conn, tenant, row["replaced_by"])
                assert again is not None
                return SentAgain(again, False)
            if row["status"] != "rejected":
                raise Conflict(
                    f"payout {payout_id!r} is {row['status']}: only a payout the bank "
                    "rejected is sent again",
                    "payout_not_rejected",
                    payout=payout_id,
                    payout_status=row["status"],
                )
            student_id = row["student_id"]
            guardians = dict(await _guardians(conn, tenant, student_id))
            guardian = _payee(guardians, guardian_id or row["guardian_id"], student_id)
            amount = Decimal(row["amount"])
            new = await _insert(
                conn,
                tenant,
                _new_id(),
                student_id,
                guardian,
                amount,
                row["reason"],
                actor,
                str(row["posting_id"]),
                replaces=payout_id,
            )
            await conn.execute(
                "UPDATE payouts SET replaced_by = %s WHERE tenant_id = %s AND id = %s",
                (new.id, tenant, payout_id),
            )
            await conn.execute(
                """INSERT INTO audit_log (tenant_id, actor, actor_role, action, target, reason,
                       details) VALUES (%s, %s, %s, 'payout.send_again', %s, %s, %s)""",
                (
                    tenant,
                    actor,
                    actor_role,
                    f"payout:{payout_id}",
                    f"the bank rejected it: {row['rejection_reason']}",
                    Jsonb(
                        {
                            "payout": new.id,
                            "amount": f"{amount:f}",
                            "guardian": guardian[0],
                            "previousGuardian": row["guardian_id"],
                        }
                    ),
                ),
            )
        return SentAgain(new, True)


async def _guardians(
    conn: AsyncConnection[DictRow], tenant: str, student_id: str
) -> list[tuple[str, str]]:
    rows = await (
        await conn.execute(
            """SELECT g.id, g.display_name FROM student_guardians sg
               JOIN guardians g ON g.tenant_id = sg.tenant_id AND g.id = sg.guardian_id
               WHERE sg.tenant_id = %s AND sg.student_id = %s
               ORDER BY g.display_name, g.id""",
            (tenant, student_id),
        )
    ).fetchall()
    return [(r["id"], r["display_name"]) for r in rows]


async def _get(conn: AsyncConnection[DictRow], tenant: str, payout_id: str) -> Payout | None:
    row = await (
        await conn.execute(
            f"SELECT {_PAYOUT_COLUMNS} FROM {_PAYOUTS} WHERE p.tenant_id = %s AND p.id = %s",
            (tenant, payout_id),
        )
    ).fetchone()
    return None if row is None else _payout(row)


def _new_id() -> str:
    return f"po-{uuid.uuid4().hex[:20]}"


async def _insert(
    conn: AsyncConnection[DictRow],
    tenant: str,
    payout_id: str,
    student_id: str,
    guardian: tuple[str, str],
    amount: Decimal,
    reason: str,
    actor: str,
    posting_id: str,
    replaces: str | None = None,
) -> Payout:
    """A payout request of money already in payouts pending (by `posting_id`)."""
    row = await (
        await conn.execute(
            """INSERT INTO payouts (tenant_id, id, student_id, guardian_id, amount, reason,
                   requested_by, posting_id, replaces)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING created_at""",
            (
                tenant,
                payout_id,
                student_id,
                guardian[0],
                amount,
                reason,
                actor,
                posting_id,
                replaces,
            ),
        )
    ).fetchone()
    assert row is not None
    return Payout(
        payout_id,
        student_id,
        guardian[0],
        guardian[1],
        amount,
        reason,
        "requested",
        row["created_at"],
        None,
        replaces=replaces,
    )


def _payee(guardians: dict[str, str], chosen: str | None, student_id: str) -> tuple[str, str]:
    if chosen is not None:
        if chosen not in guardians:
            raise _not_their_guardian(chosen, student_id)
        return chosen, guardians[chosen]
    if not guardians:
        raise Conflict(
            f"{student_id!r} has no guardian to pay the balance back to: link one first",
            "no_guardian",
            student=student_id,
        )
    if len(guardians) > 1:
        raise DirectoryError(
            f"{student_id!r} has {len(guardians)} guardians: name the one to pay back",
            "several_guardians",
            student=student_id,
            n=len(guardians),
        )
    return next(iter(guardians.items()))


def _not_their_guardian(guardian_id: str, student_id: str) -> NotFound:
    return NotFound(
        f"guardian {guardian_id!r} is not a guardian of {student_id!r}",
        "not_their_guardian",
        guardian=guardian_id,
        student=student_id,
    )


def payout_request(tenant: str, payout: Payout) -> dict[str, str]:
    """The request the bank reads on the payouts topic (the payout id is its idempotency
    key: a request sent twice is paid once)."""
    return {
        "type": "payout.requested",
        "payoutId": payout.id,
        "tenantId": tenant,
        "studentId": payout.student_id,
        "guardianId": payout.guardian_id,
        "guardianName": payout.guardian_name,
        "amount": f"{payout.amount:f}",
        "currency": "IDR",
        "reason": payout.reason,
        "requestedAt": payout.created_at.isoformat(),
    }


class PayoutActivities:
    def __init__(self, payouts: Payouts, publish: AlertPublisher | None) -> None:
        self.payouts = payouts
        self.publish = publish

    @activity.defn(name="wallet.send_payout")
    async def send(self, ref: PayoutRef) -> str:
        """Put the payout request on the payouts topic, once it is not sent yet; its
        status afterwards."""
        found = await self.payouts.get(ref.tenant_id, ref.payout_id)
        if found is None:
            raise LookupError(f"no payout {ref.payout_id!r}")  # retried: it commits first
        if found.status != "requested":  # sent, or answered already: never again
            return found.status
        if self.publish is None:
            raise RuntimeError("this worker has no payouts topic to publish to")
        value = json.dumps(payout_request(ref.tenant_id, found)).encode()
        await self.publish(ref.tenant_id, found.id.encode(), value)
        await self.payouts.mark_sent(ref.tenant_id, ref.payout_id)
        return "sent"
