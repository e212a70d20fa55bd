"""The wallet workflows' side effects: screen a purchase or top-up, then settle it.

Screening authorises against the wallet's facts (student, balance, limits, categories, cap)
and, if that passes, records the movement in the monitoring history and runs the monitoring
rules. Settling stores the evaluation, then in one database transaction posts to the ledger,
records the payment or top-up with its decision, and queues the guardians' notifications
(and their auto top-up request to the bank, when a purchase takes the balance below it).
Each step is idempotent (keys: the kiosk's transaction id, the bank's top-up id), so a retry
after a crash finds what the first attempt did.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from decimal import Decimal
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from temporalio import activity

from activities.monitoring.pipeline import Screen
from activities.wallet import notifications
from activities.wallet.directory import TOPUP_CLEARING, debt_account, wallet_account
from activities.wallet.facts import load_category, load_facts
from activities.wallet.ledger import (
    InsufficientFunds,
    balance_in,
    post_in,
    purchase,
    purchase_on_credit,
    topup_repaying,
)
from core.db import Pool
from core.monitoring.transactions import Transaction, TxType
from core.wallet.authorisation import (
    INSUFFICIENT,
    UNKNOWN_STUDENT,
    authorise_purchase,
    authorise_topup,
    balance_cap,
    effective_cap,
)
from core.wallet.portal import auto_topup_amount, auto_topup_request_id
from core.wallet.types import (
    APPROVED,
    CREDITED,
    DECLINED,
    Decline,
    PaymentRequest,
    Receipt,
    Screening,
    Settlement,
    TopUpRequest,
)

KIOSK_INACTIVE = Decline("kiosk_inactive", "This kiosk is switched off. Please see the office.")
# declines a guardian wants to hear about: their own controls at work, or an empty wallet
_NOTIFY_DECLINES = frozenset(
    {"daily_limit", "weekly_limit", "category_blocked", "category_limit", "insufficient_funds"}
)

_KIOSK_SQL = """
SELECT k.school_id, k.merchant_id, m.account_id AS merchant_account
FROM kiosks k JOIN merchants m ON m.tenant_id = k.tenant_id AND m.id = k.merchant_id
WHERE k.tenant_id = %s AND k.id = %s AND k.active
"""


class WalletActivities:
    def __init__(
        self,
        pool: Pool,
        screen: Screen,
        default_balance_cap: Decimal,
    ) -> None:
        self.pool = pool
        self.screen = screen
        self.default_balance_cap = default_balance_cap

    async def _monitor(self, tx: Transaction, document: dict[str, Any], channel: str) -> Screening:
        """The movement through the monitoring pipeline (as in micro-batch mode, next to the
        data, so the workflow carries the verdict instead of every rule result)."""
        info = activity.info()
        verdict = await self.screen(
            tx, json.dumps(document), channel, info.workflow_id or "", info.workflow_run_id or ""
        )
        return Screening(
            evaluation_id=verdict.evaluation_id,
            monitoring_status=verdict.status,
            interdicted=verdict.interdicted,
            score=verdict.score,
        )

    @activity.defn(name="wallet.screen_payment")
    async def screen_payment(self, request: PaymentRequest) -> Screening:
        amount = Decimal(request.amount)
        async with self.pool.connection() as conn:
            kiosk = await (
                await conn.execute(_KIOSK_SQL, (request.tenant_id, request.kiosk_id))
            ).fetchone()
            if kiosk is None:
                return Screening(decline=KIOSK_INACTIVE)
            facts = await load_facts(
                conn, request.tenant_id, request.student_id, request.sold_at_ms
            )
            category = None
            if request.category_id and facts.school is not None:
                category = await load_category(
                    conn,
                    request.tenant_id,
                    request.student_id,
                    request.category_id,
                    facts.school.day_start,
                )
        decline = authorise_purchase(
            amount, kiosk["school_id"], facts.student, category, request.category_id is not None
        )
        if request.offline and facts.student.exists:
            # sold while the kiosk was offline, within its caps: the goods are gone, so the
            # sale is recorded (on credit if need be) and only evaluated
            decline = None
        if facts.school is None:  # no such student: no wallet to watch
            return Screening(decline=decline)
        tx = Transaction(
            tenant_id=request.tenant_id,
            msg_id=request.msg_id,
            tx_type=TxType.KIOSK_PURCHASE,
            end_to_end_id=request.msg_id,
            created_at_ms=request.sold_at_ms,
            amount=float(amount),
            currency="IDR",
            debtor_account=facts.school.account_id,
            creditor_account=kiosk["merchant_account"],
            debtor_entity=request.student_id,
            creditor_entity=kiosk["merchant_id"],
            school_id=kiosk["school_id"],
            kiosk_id=request.kiosk_id,
            category=request.category_id,
            auth_method=request.auth_method,
            match_score=request.match_score,
            operator_id=request.operator_id,
            offline=request.offline,
        )
        # declined attempts are evaluated too: attempts beyond a limit are a signal (s01)
        screening = await self._monitor(tx, asdict(request), "sync" if request.offline else "kiosk")
        return replace(screening, decline=decline)

    @activity.defn(name="wallet.settle_payment")
    async def settle_payment(self, request: PaymentRequest, settlement: Settlement) -> Receipt:
        monitoring, evaluation_id = settlement.monitoring_status, settlement.evaluation_id
        tenant, amount = request.tenant_id, Decimal(request.amount)
        workflow_id = activity.info().workflow_id or ""
        async with self.pool.connection() as conn, conn.transaction():
            existing = await find_payment(conn, tenant, request.kiosk_id, request.kiosk_tx_id)
            if existing is not None:  # a retry: the first attempt committed
                return receipt_from_row(request.kiosk_tx_id, existing, monitoring)
            decline = settlement.decline
            posting_id, debt = None, Decimal(0)
            kiosk = await (await conn.execute(_KIOSK_SQL, (tenant, request.kiosk_id))).fetchone()
            if decline is None and kiosk is None:
                decline = KIOSK_INACTIVE
            if decline is None:
                assert kiosk is not None
                wallet = wallet_account(request.student_id)
                entries = purchase(wallet, kiosk["merchant_account"], amount)
                try:
                    posted = await post_in(conn, tenant, request.msg_id, "purchase", entries)
                    posting_id = posted.posting_id
                except InsufficientFunds:  # spent by a concurrent purchase since screening
                    # an offline sale, or an approved one a restore undid, has happened: it
                    # is recorded on credit rather than declined
                    if not request.offline and request.redo is None:
                        decline = INSUFFICIENT
                    else:
                        posting_id, debt = await _on_credit(
                            conn, request, kiosk["merchant_account"], amount
                        )
            # the receipt's row, with the wallet's balance after this payment
            row = await (
                await conn.execute(
                    """INSERT INTO payments (tenant_id, kiosk_id, kiosk_tx_id, student_id,
                        school_id, merchant_id, amount, category_id, auth_method, status,
                        reason_code, reason, posting_id, evaluation_id, workflow_id, created_at,
                        offline, debt)
                    SELECT %s, %s, %s, s.id, s.school_id, k.merchant_id, %s, %s, %s, %s, %s, %s,
                           %s, %s, %s, to_timestamp(%s / 1000.0), %s, %s
                    FROM students s, kiosks k
                    WHERE s.tenant_id = %s AND s.id = %s AND k.tenant_id = %s AND k.id = %s
                    RETURNING *, (SELECT balance FROM ledger_balances
                                  WHERE tenant_id = %s AND account_id = %s) AS balance""",
                    (
                        tenant,
                        request.kiosk_id,
                        request.kiosk_tx_id,
                        amount,
                        request.category_id,
                        request.auth_method,
                        DECLINED if decline else APPROVED,
                        decline.code if decline else None,
                        decline.reason if decline else None,
                        posting_id,
                        evaluation_id,
                        workflow_id,
                        request.sold_at_ms,
                        request.offline,
                        debt,
                        tenant,
                        request.student_id,
                        tenant,
                        request.kiosk_id,
                        tenant,
                        wallet_account(request.student_id),
                    ),
                )
            ).fetchone()
            if decline is not None:
                await _not_moved(conn, tenant, request.msg_id)
                if decline.code in _NOTIFY_DECLINES:
                    await notifications.notify_guardians(
                        conn,
                        tenant,
                        request.student_id,
                        "payment_declined",
                        {
                            "kioskTxId": request.kiosk_tx_id,
                            "amount": request.amount,
                            "reasonCode": decline.code,
                            "reason": decline.reason,
                            # a category's decline names it: pages word it in their language
                            "categoryId": request.category_id,
                        },
                        f"payment_declined:{request.msg_id}",
                    )
            elif debt > 0:
                await notifications.notify_guardians(
                    conn,
                    tenant,
                    request.student_id,
                    "offline_debt",
                    {
                        "kioskTxId": request.kiosk_tx_id,
                        "amount": request.amount,
                        "debt": f"{debt:f}",
                    },
                    f"offline_debt:{request.msg_id}",
                )
            elif row is not None:
                await self._after_purchase(conn, tenant, request.student_id, amount, request.msg_id)
        if row is None:  # the student or kiosk vanished: nothing was recorded or posted
            unknown = UNKNOWN_STUDENT
            return Receipt(
                request.kiosk_tx_id,
                DECLINED,
                request.amount,
                request.student_id,
                workflow_id,
                unknown.code,
                unknown.reason,
            )
        return receipt_from_row(request.kiosk_tx_id, row, monitoring)

    @activity.defn(name="wallet.screen_topup")
    async def screen_topup(self, request: TopUpRequest) -> Screening:
        amount = Decimal(request.amount)
        async with self.pool.connection() as conn:
            facts = await load_facts(
                conn, request.tenant_id, request.student_id, request.created_at_ms
            )
        school = facts.school
        cap = effective_cap(self.default_balance_cap, school.balance_cap if school else None)
        decline = authorise_topup(amount, facts.student, cap)
        if school is None:
            return Screening(decline=decline)
        tx = Transaction(
            tenant_id=request.tenant_id,
            msg_id=request.msg_id,
            tx_type=TxType.TOP_UP,
            end_to_end_id=request.msg_id,
            created_at_ms=request.created_at_ms,
            amount=float(amount),
            currency="IDR",
            debtor_account=request.payer_account,
            creditor_account=school.account_id,
            debtor_entity=f"payer:{request.payer_account}",
            creditor_entity=request.student_id,
            school_id=school.school_id,
        )
        # a top-up over the cap is evaluated too: pushing at the cap is a signal (s11)
        screening = await self._monitor(tx, asdict(request), request.channel)
        return replace(screening, decline=decline)

    @activity.defn(name="wallet.settle_topup")
    async def settle_topup(self, request: TopUpRequest, settlement: Settlement) -> Receipt:
        monitoring, evaluation_id = settlement.monitoring_status, settlement.evaluation_id
        tenant, amount = request.tenant_id, Decimal(request.amount)
        workflow_id = activity.info().workflow_id or ""
        wallet = wallet_account(request.student_id)
        async with self.pool.connection() as conn, conn.transaction():
            existing = await find_topup(conn, tenant, request.topup_id)
            if existing is not None:
                return receipt_from_row(request.topup_id, existing, monitoring)
            decline = settlement.decline
            posting_id = None
            if decline is None and request.redo is None:  # a redo was credited then
                decline = await self._over_cap(conn, request, amount)
            if decline is None:
                owed = -await balance_in(conn, tenant, debt_account(request.student_id))
                entries = topup_repaying(
                    wallet,
                    debt_account(request.student_id),
                    TOPUP_CLEARING,
                    amount,
                    max(owed, Decimal(0)),
                )
                posted = await post_in(conn, tenant, request.msg_id, "topup", entries)
                posting_id = posted.posting_id
            cur = await conn.execute(
                """INSERT INTO topups (tenant_id, id, student_id, amount, channel, payer_account,
                        status, reason_code, reason, posting_id, evaluation_id, workflow_id,
                        created_at)
                    SELECT %s, %s, s.id, %s, %s, %s, %s, %s, %s, %s, %s, %s,
                           to_timestamp(%s / 1000.0)
                    FROM students s WHERE s.tenant_id = %s AND s.id = %s""",
                (
                    tenant,
                    request.topup_id,
                    amount,
                    request.channel,
                    request.payer_account,
                    DECLINED if decline else CREDITED,
                    decline.code if decline else None,
                    decline.reason if decline else None,
                    posting_id,
                    evaluation_id,
                    workflow_id,
                    request.created_at_ms,
                    tenant,
                    request.student_id,
                ),
            )
            if decline is not None:
                await _not_moved(conn, tenant, request.msg_id)
            if cur.rowcount == 1:
                kind = "topup_declined" if decline else "topup_credited"
                await notifications.notify_guardians(
                    conn,
                    tenant,
                    request.student_id,
                    kind,
                    {
                        "topupId": request.topup_id,
                        "amount": request.amount,
                        "reasonCode": decline.code if decline else None,
                        "reason": decline.reason if decline else None,
                    },
                    f"{kind}:{request.topup_id}",
                )
            row = await find_topup(conn, tenant, request.topup_id)
        if row is None:  # no such student: nothing recorded or credited
            assert decline is not None
            return Receipt(
                request.topup_id,
                DECLINED,
                request.amount,
                request.student_id,
                workflow_id,
                decline.code,
                decline.reason,
            )
        return receipt_from_row(request.topup_id, row, monitoring)

    async def _after_purchase(
        self,
        conn: AsyncConnection[DictRow],
        tenant: str,
        student_id: str,
        paid: Decimal,
        msg_id: str,
    ) -> None:
        """What a purchase that took the balance below a guardian's line sets off, in the
        payment's transaction (so once per crossing): the low-balance notice, and the auto
        top-up request to the bank, which the worker publishes (`TopUpRequestRelay`)."""
        row = await (
            await conn.execute(
                """SELECT b.balance, c.low_balance_threshold, a.below, a.amount,
                          sc.balance_cap, s.virtual_account
                   FROM students s
                   JOIN ledger_balances b ON b.tenant_id = s.tenant_id
                    AND b.account_id = s.account_id
                   JOIN schools sc ON sc.tenant_id = s.tenant_id AND sc.id = s.school_id
                   LEFT JOIN student_controls c ON c.tenant_id = s.tenant_id
                    AND c.student_id = s.id
                   LEFT JOIN student_auto_topups a ON a.tenant_id = s.tenant_id
                    AND a.student_id = s.id
                   WHERE s.tenant_id = %s AND s.id = %s""",
                (tenant, student_id),
            )
        ).fetchone()
        if row is None:
            return
        after = Decimal(row["balance"])
        if row["low_balance_threshold"] is not None:
            threshold = Decimal(row["low_balance_threshold"])
            if after < threshold <= after + paid:
                await notifications.notify_guardians(
                    conn,
                    tenant,
                    student_id,
                    "low_balance",
                    {"balance": f"{after:f}", "threshold": f"{threshold:f}"},
                    f"low_balance:{msg_id}",
                )
        if row["below"] is None:  # no auto top-up set
            return
        cap = effective_cap(self.default_balance_cap, row["balance_cap"])
        asked = auto_topup_amount(after, paid, Decimal(row["below"]), Decimal(row["amount"]), cap)
        if asked is None:
            return
        await conn.execute(
            """INSERT INTO topup_requests (tenant_id, id, student_id, virtual_account, amount,
                                           cause)
               VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING""",
            (
                tenant,
                auto_topup_request_id(tenant, msg_id),
                student_id,
                row["virtual_account"],
                asked,
                msg_id,
            ),
        )

    async def _over_cap(
        self, conn: AsyncConnection[DictRow], request: TopUpRequest, amount: Decimal
    ) -> Decline | None:
        """Checked again under the wallet's row lock: two top-ups screened at the same
        moment must not together pass the cap."""
        row = await (
            await conn.execute(
                """SELECT b.balance, sc.balance_cap FROM ledger_balances b
                   JOIN students s ON s.tenant_id = b.tenant_id AND s.account_id = b.account_id
                   JOIN schools sc ON sc.tenant_id = s.tenant_id AND sc.id = s.school_id
                   WHERE b.tenant_id = %s AND s.id = %s FOR UPDATE OF b""",
                (request.tenant_id, request.student_id),
            )
        ).fetchone()
        if row is None:
            return None
        cap = effective_cap(self.default_balance_cap, row["balance_cap"])
        return balance_cap(cap) if Decimal(row["balance"]) + amount > cap else None


async def _on_credit(
    conn: AsyncConnection[DictRow], request: PaymentRequest, merchant: str, amount: Decimal
) -> tuple[str, Decimal]:
    """Post an offline sale the wallet cannot cover: what it holds, the rest as debt."""
    tenant, student = request.tenant_id, request.student_id
    wallet = wallet_account(student)
    covered = max(Decimal(0), await balance_in(conn, tenant, wallet))
    await conn.execute(  # students enrolled before offline sales existed have no debt account
        "INSERT INTO ledger_accounts (tenant_id, id, kind, owner_id) "
        "VALUES (%s, %s, 'offline_debt', %s) ON CONFLICT DO NOTHING",
        (tenant, debt_account(student), student),
    )
    entries = purchase_on_credit(wallet, debt_account(student), merchant, amount, covered)
    posted = await post_in(conn, tenant, request.msg_id, "purchase", entries)
    return posted.posting_id, amount - covered


async def _not_moved(conn: AsyncConnection[DictRow], tenant: str, msg_id: str) -> None:
    """The history keeps a declined attempt, marked as not having moved money (and as
    written again, so workers that keep histories read the new status)."""
    await conn.execute(
        "UPDATE transaction_edges SET status = 'RJCT', written_by = pg_current_xact_id() "
        "WHERE tenant_id = %s AND msg_id = %s",
        (tenant, msg_id),
    )


async def find_payment(
    conn: AsyncConnection[DictRow], tenant: str, kiosk_id: str, kiosk_tx_id: str
) -> DictRow | None:
    """A payment's row with its student's balance now."""
    return await (
        await conn.execute(
            """SELECT p.*, b.balance FROM payments p
               JOIN students s ON s.tenant_id = p.tenant_id AND s.id = p.student_id
               JOIN ledger_balances b ON b.tenant_id = s.tenant_id AND b.account_id = s.account_id
               WHERE p.tenant_id = %s AND p.kiosk_id = %s AND p.kiosk_tx_id = %s""",
            (tenant, kiosk_id, kiosk_tx_id),
        )
    ).fetchone()


async def find_topup(conn: AsyncConnection[DictRow], tenant: str, topup_id: str) -> DictRow | None:
    """A top-up's row with its student's balance now."""
    return await (
        await conn.execute(
            """SELECT t.*, b.balance FROM topups t
               JOIN students s ON s.tenant_id = t.tenant_id AND s.id = t.student_id
               JOIN ledger_balances b ON b.tenant_id = s.tenant_id AND b.account_id = s.account_id
               WHERE t.tenant_id = %s AND t.id = %s""",
            (tenant, topup_id),
        )
    ).fetchone()


def receipt_from_row(reference: str, row: DictRow, monitoring: str | None = None) -> Receipt:
    """A payment's or top-up's receipt from its stored row (also used by the lookup routes)."""
    return Receipt(
        reference=reference,
        status=row["status"],
        amount=f"{Decimal(row['amount']):f}",
        student_id=row["student_id"],
        workflow_id=row["workflow_id"],
        reason_code=row["reason_code"],
        reason=row["reason"],
        balance_after=f"{Decimal(row['balance']):f}",
        posting_id=str(row["posting_id"]) if row["posting_id"] else None,
        evaluation_id=row["evaluation_id"],
        monitoring_status=monitoring,
    )
