"""The double-entry ledger: balanced, idempotent postings; balances derived and verified.

Amounts are signed: a credit is positive, a debit negative, and a posting's entries sum to
zero (checked here, and again by a deferred trigger at commit). A student's wallet is
credited by a top-up (from top-up clearing) and a refund (from the merchant), and debited by
a purchase (to the merchant), a payout (a leaver's balance, into payouts pending until
the bank pays a guardian) and a transfer (between two wallets, siblings'); a wallet can
never go below zero. A payout the bank has paid leaves payouts pending for the bank's
clearing account (`payout_paid`), the way top-ups came in. Every posting carries the caller's
idempotency key: the same key with the same entries posts once; with other entries it is
refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import DictRow

from core.db import Pool

AccountKind = Literal[
    "student_wallet", "merchant_settlement", "topup_clearing", "offline_debt", "payouts_pending"
]
PostingKind = Literal["topup", "purchase", "refund", "payout", "payout_paid", "transfer"]
CENT = Decimal("0.0001")  # the ledger's precision: numeric(20, 4)


class LedgerError(ValueError):
    """A posting that must not happen; the message says why."""


class InsufficientFunds(LedgerError):
    pass


@dataclass(frozen=True)
class Entry:
    account_id: str
    amount: Decimal  # credit > 0 > debit


@dataclass(frozen=True)
class Posted:
    posting_id: str
    created: bool  # False: this idempotency key was posted before, nothing changed


@dataclass
class Verification:
    problems: list[str] = field(default_factory=list)
    wallets: Decimal = Decimal(0)
    debts: Decimal = Decimal(0)  # owed by students for offline sales their wallets lacked
    topups: Decimal = Decimal(0)
    purchases: Decimal = Decimal(0)
    refunds: Decimal = Decimal(0)
    payouts: Decimal = Decimal(0)  # leavers' balances paid back to guardians
    paid_out: Decimal = Decimal(0)  # of those, what the bank has paid

    @property
    def ok(self) -> bool:
        return not self.problems


def _fingerprint(kind: str, entries: Sequence[Entry]) -> str:
    canonical = ";".join(f"{e.account_id}={e.amount:f}" for e in sorted(entries, key=_key))
    return hashlib.sha256(f"{kind}|{canonical}".encode()).hexdigest()


def _key(entry: Entry) -> tuple[str, Decimal]:
    return entry.account_id, entry.amount


def _validate(entries: Sequence[Entry]) -> list[Entry]:
    if len(entries) < 2:
        raise LedgerError("a posting needs at least two entries")
    normalised = []
    for entry in entries:
        amount = Decimal(entry.amount)
        if not amount.is_finite() or amount == 0 or amount != amount.quantize(CENT):
            raise LedgerError(f"entry amount {entry.amount!r} must be non-zero, to 4 decimals")
        normalised.append(Entry(entry.account_id, amount))
    total = sum((e.amount for e in normalised), Decimal(0))
    if total != 0:
        raise LedgerError(f"entries do not balance: they sum to {total}")
    return normalised


def topup(wallet: str, clearing: str, amount: Decimal) -> list[Entry]:
    return [Entry(wallet, amount), Entry(clearing, -amount)]


def purchase(wallet: str, merchant: str, amount: Decimal) -> list[Entry]:
    return [Entry(wallet, -amount), Entry(merchant, amount)]


def purchase_on_credit(
    wallet: str, debt: str, merchant: str, amount: Decimal, covered: Decimal
) -> list[Entry]:
    """An offline sale the wallet covers only in part: the rest is the student's debt."""
    entries = [Entry(debt, covered - amount), Entry(merchant, amount)]
    return entries if covered == 0 else [Entry(wallet, -covered), *entries]


def topup_repaying(
    wallet: str, debt: str, clearing: str, amount: Decimal, owed: Decimal
) -> list[Entry]:
    """A top-up pays the student's debt first; the rest goes to the wallet."""
    repaid = min(owed, amount)
    entries = [Entry(clearing, -amount)]
    if repaid > 0:
        entries.append(Entry(debt, repaid))
    if amount > repaid:
        entries.append(Entry(wallet, amount - repaid))
    return entries


def refund(wallet: str, merchant: str, amount: Decimal) -> list[Entry]:
    return [Entry(merchant, -amount), Entry(wallet, amount)]


def payout(wallet: str, pending: str, amount: Decimal) -> list[Entry]:
    """A leaver's balance leaves the wallet, owed to a guardian until the bank pays it."""
    return [Entry(wallet, -amount), Entry(pending, amount)]


def payout_paid(pending: str, clearing: str, amount: Decimal) -> list[Entry]:
    """The bank has paid a payout: it leaves payouts pending through the bank's clearing
    account (where top-ups come in)."""
    return [Entry(pending, -amount), Entry(clearing, amount)]


def transfer(from_wallet: str, to_wallet: str, amount: Decimal) -> list[Entry]:
    """A guardian moves money from one child's wallet to a sibling's."""
    return [Entry(from_wallet, -amount), Entry(to_wallet, amount)]


async def post_in(
    conn: AsyncConnection[DictRow],
    tenant: str,
    idempotency_key: str,
    kind: PostingKind,
    entries: Sequence[Entry],
    memo: str | None = None,
) -> Posted:
    """Post within the caller's transaction (so a payment's row and its posting commit
    together). A refused posting rolls back only its own savepoint."""
    checked = _validate(entries)
    fingerprint = _fingerprint(kind, checked)
    try:
        async with conn.transaction():
            cur = await conn.execute(
                """INSERT INTO postings (tenant_id, idempotency_key, kind, fingerprint, memo)
                   VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id""",
                (tenant, idempotency_key, kind, fingerprint, memo),
            )
            row = await cur.fetchone()
            if row is None:
                return await _already_posted(conn, tenant, idempotency_key, fingerprint)
            posting_id = row["id"]
            accounts, amounts = [e.account_id for e in checked], [e.amount for e in checked]
            await conn.execute(
                "INSERT INTO ledger_entries (tenant_id, posting_id, account_id, amount) "
                "SELECT %s, %s, unnest(%s::text[]), unnest(%s::numeric[])",
                (tenant, posting_id, accounts, amounts),
            )
            # Only wallets keep a cached balance (for their floor): updating a canteen's or
            # the clearing account's balance row on every posting would make one hot row
            # that serialises every purchase of a school. Theirs are derived from entries.
            # (A posting moves money of one wallet, or of two for a transfer between
            # siblings, whose caller locks both rows first in a fixed order.)
            await conn.execute(
                """UPDATE ledger_balances b SET balance = b.balance + e.amount
                   FROM (SELECT unnest(%s::text[]) AS account_id,
                                unnest(%s::numeric[]) AS amount) e
                   WHERE b.tenant_id = %s AND b.account_id = e.account_id""",
                (accounts, amounts, tenant),
            )
    except psycopg.errors.CheckViolation as err:
        raise InsufficientFunds("the wallet's balance is too low for this posting") from err
    except psycopg.errors.ForeignKeyViolation as err:
        raise LedgerError("an entry names an account that is not open") from err
    return Posted(str(posting_id), created=True)


async def _already_posted(
    conn: AsyncConnection[DictRow], tenant: str, key: str, fingerprint: str
) -> Posted:
    cur = await conn.execute(
        "SELECT id, fingerprint FROM postings WHERE tenant_id = %s AND idempotency_key = %s",
        (tenant, key),
    )
    row = await cur.fetchone()
    assert row is not None
    if row["fingerprint"] != fingerprint:
        raise LedgerError(f"idempotency key {key!r} was already used for a different posting")
    return Posted(str(row["id"]), created=False)


async def balance_in(conn: AsyncConnection[DictRow], tenant: str, account_id: str) -> Decimal:
    """Derived from the entries (a wallet's cached balance is what `verify` checks)."""
    cur = await conn.execute(
        "SELECT coalesce(sum(amount), 0) AS balance FROM ledger_entries "
        "WHERE tenant_id = %s AND account_id = %s",
        (tenant, account_id),
    )
    row = await cur.fetchone()
    return Decimal(row["balance"]) if row else Decimal(0)


class Ledger:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def open_account(
        self, tenant: str, account_id: str, kind: AccountKind, owner_id: str | None = None
    ) -> None:
        """Create the account if it does not exist (idempotent)."""
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO ledger_accounts (tenant_id, id, kind, owner_id) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (tenant, account_id, kind, owner_id),
            )
            if kind == "student_wallet":
                await conn.execute(
                    "INSERT INTO ledger_balances (tenant_id, account_id, is_wallet) "
                    "VALUES (%s, %s, true) ON CONFLICT DO NOTHING",
                    (tenant, account_id),
                )

    async def post(
        self,
        tenant: str,
        idempotency_key: str,
        kind: PostingKind,
        entries: Sequence[Entry],
        memo: str | None = None,
    ) -> Posted:
        async with self.pool.connection() as conn, conn.transaction():
            return await post_in(conn, tenant, idempotency_key, kind, entries, memo)

    async def balance(self, tenant: str, account_id: str) -> Decimal:
        async with self.pool.connection() as conn:
            return await balance_in(conn, tenant, account_id)

    async def verify(self, tenant: str | None = None) -> Verification:
        """Check every posting balances, every cached balance equals its entries, and the sum
        of all wallets equals top-ups minus purchases plus refunds minus payouts (counted on the
        other side of each posting: clearing, merchant and payouts-pending accounts), and
        payouts pending holds exactly the payouts the bank has not paid yet."""
        result = Verification()
        where, params = ("WHERE e.tenant_id = %s", (tenant,)) if tenant else ("", ())
        async with self.pool.connection() as conn:
            for row in await (
                await conn.execute(
                    f"SELECT e.tenant_id, e.posting_id FROM ledger_entries e {where} "
                    "GROUP BY 1, 2 HAVING sum(e.amount) <> 0",
                    params,
                )
            ).fetchall():
                result.problems.append(f"posting {row['posting_id']} is not balanced")
            balance_where = "WHERE b.tenant_id = %s" if tenant else ""
            for row in await (
                await conn.execute(
                    f"""SELECT b.tenant_id, b.account_id, b.balance,
                               coalesce((SELECT sum(amount) FROM ledger_entries e
                                         WHERE e.tenant_id = b.tenant_id
                                           AND e.account_id = b.account_id), 0) AS derived
                        FROM ledger_balances b {balance_where}""",
                    params,
                )
            ).fetchall():
                if row["balance"] != row["derived"]:
                    result.problems.append(
                        f"account {row['account_id']}: cached balance {row['balance']} but "
                        f"its entries sum to {row['derived']}"
                    )
            totals = await (
                await conn.execute(
                    f"""SELECT
                          coalesce(sum(e.amount) FILTER (WHERE a.kind = 'student_wallet'), 0)
                              AS wallets,
                          coalesce(-sum(e.amount) FILTER (WHERE a.kind = 'offline_debt'), 0)
                              AS debts,
                          coalesce(-sum(e.amount) FILTER (
                              WHERE p.kind = 'topup' AND a.kind = 'topup_clearing'), 0) AS topups,
                          coalesce(sum(e.amount) FILTER (
                              WHERE p.kind = 'purchase' AND a.kind = 'merchant_settlement'), 0)
                              AS purchases,
                          coalesce(-sum(e.amount) FILTER (
                              WHERE p.kind = 'refund' AND a.kind = 'merchant_settlement'), 0)
                              AS refunds,
                          coalesce(sum(e.amount) FILTER (
                              WHERE p.kind = 'payout' AND a.kind = 'payouts_pending'), 0)
                              AS payouts,
                          coalesce(-sum(e.amount) FILTER (
                              WHERE p.kind = 'payout_paid' AND a.kind = 'payouts_pending'), 0)
                              AS paid_out
                        FROM ledger_entries e
                        JOIN ledger_accounts a ON a.tenant_id = e.tenant_id AND a.id = e.account_id
                        JOIN postings p ON p.tenant_id = e.tenant_id AND p.id = e.posting_id
                        {where}""",
                    params,
                )
            ).fetchone()
            # one statement, one snapshot: a payout answered meanwhile is seen on both sides
            payout_where = "WHERE tenant_id = %s" if tenant else ""
            for row in await (
                await conn.execute(
                    f"""SELECT tenant_id, coalesce(o.owed, 0) AS owed,
                               coalesce(l.pending, 0) AS pending
                        FROM (SELECT tenant_id, sum(amount) FILTER (
                                  WHERE status <> 'paid' AND replaced_by IS NULL) AS owed
                              FROM payouts {payout_where} GROUP BY tenant_id) o
                        FULL JOIN (
                              SELECT e.tenant_id, sum(e.amount) AS pending
                              FROM ledger_entries e
                              JOIN ledger_accounts a
                                ON a.tenant_id = e.tenant_id AND a.id = e.account_id
                              {where} {"AND" if where else "WHERE"} a.kind = 'payouts_pending'
                              GROUP BY e.tenant_id) l USING (tenant_id)
                        WHERE coalesce(o.owed, 0) <> coalesce(l.pending, 0)""",
                    params * 2,
                )
            ).fetchall():
                result.problems.append(
                    f"tenant {row['tenant_id']}: payouts pending holds {row['pending']}, but "
                    f"the payouts not yet paid come to {row['owed']}"
                )
        assert totals is not None
        result.wallets = Decimal(totals["wallets"])
        result.debts = Decimal(totals["debts"])
        result.topups = Decimal(totals["topups"])
        result.purchases = Decimal(totals["purchases"])
        result.refunds = Decimal(totals["refunds"])
        result.payouts = Decimal(totals["payouts"])
        result.paid_out = Decimal(totals["paid_out"])
        expected = result.topups - result.purchases + result.refunds - result.payouts
        if result.wallets - result.debts != expected:
            result.problems.append(
                f"wallets hold {result.wallets} less debts {result.debts}, but top-ups - "
                f"purchases + refunds - payouts = {expected}"
            )
        return result
