"""The double-entry ledger against the real database."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from decimal import Decimal

import pytest

from activities.wallet.ledger import (
    Entry,
    InsufficientFunds,
    Ledger,
    LedgerError,
    payout,
    payout_paid,
    purchase,
    refund,
    topup,
)
from core.db import Pool
from core.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
async def books(pool: Pool) -> tuple[Ledger, str]:
    ledger = Ledger(pool)
    tenant = f"school-{uuid.uuid4().hex[:8]}"
    await ledger.open_account(tenant, "wallet:budi", "student_wallet", "stu-budi")
    await ledger.open_account(tenant, "merchant:canteen", "merchant_settlement", "canteen")
    await ledger.open_account(tenant, "clearing:bank", "topup_clearing")
    return ledger, tenant


async def test_top_up_pay_refund_moves_balances_exactly(books: tuple[Ledger, str]) -> None:
    ledger, tenant = books
    await ledger.post(
        tenant, "topup-1", "topup", topup("wallet:budi", "clearing:bank", Decimal(50_000))
    )
    await ledger.post(
        tenant, "kiosk-7", "purchase", purchase("wallet:budi", "merchant:canteen", Decimal(12_500))
    )
    await ledger.post(
        tenant, "refund-7", "refund", refund("wallet:budi", "merchant:canteen", Decimal(2_500))
    )
    assert await ledger.balance(tenant, "wallet:budi") == Decimal(40_000)
    assert await ledger.balance(tenant, "merchant:canteen") == Decimal(10_000)
    assert await ledger.balance(tenant, "clearing:bank") == Decimal(-50_000)
    result = await ledger.verify(tenant)
    assert result.ok, result.problems
    assert (result.wallets, result.topups, result.purchases, result.refunds) == (
        40_000,
        50_000,
        12_500,
        2_500,
    )


async def test_the_same_key_posts_once_even_concurrently(books: tuple[Ledger, str]) -> None:
    ledger, tenant = books
    entries = topup("wallet:budi", "clearing:bank", Decimal(10_000))
    results = await asyncio.gather(
        *(ledger.post(tenant, "topup-x", "topup", entries) for _ in range(8))
    )
    assert sum(r.created for r in results) == 1
    assert len({r.posting_id for r in results}) == 1
    assert await ledger.balance(tenant, "wallet:budi") == Decimal(10_000)


async def test_a_reused_key_with_other_entries_is_refused(books: tuple[Ledger, str]) -> None:
    ledger, tenant = books
    await ledger.post(
        tenant, "topup-y", "topup", topup("wallet:budi", "clearing:bank", Decimal(100))
    )
    with pytest.raises(LedgerError, match="already used"):
        await ledger.post(
            tenant, "topup-y", "topup", topup("wallet:budi", "clearing:bank", Decimal(200))
        )
    assert await ledger.balance(tenant, "wallet:budi") == Decimal(100)


@pytest.mark.parametrize(
    ("entries", "reason"),
    [
        ([Entry("wallet:budi", Decimal(100))], "at least two"),
        ([Entry("wallet:budi", Decimal(100)), Entry("clearing:bank", Decimal(-99))], "balance"),
        (
            [Entry("wallet:budi", Decimal("0.00001")), Entry("clearing:bank", Decimal("-0.00001"))],
            "4 decimals",
        ),
        ([Entry("wallet:budi", Decimal(0)), Entry("clearing:bank", Decimal(0))], "non-zero"),
        ([Entry("wallet:nobody", Decimal(5)), Entry("clearing:bank", Decimal(-5))], "not open"),
    ],
)
async def test_malformed_postings_are_refused_and_change_nothing(
    books: tuple[Ledger, str], entries: list[Entry], reason: str
) -> None:
    ledger, tenant = books
    with pytest.raises(LedgerError, match=reason):
        await ledger.post(tenant, f"bad-{uuid.uuid4().hex}", "topup", entries)
    assert await ledger.balance(tenant, "wallet:budi") == 0
    assert (await ledger.verify(tenant)).ok


async def test_a_wallet_cannot_be_overdrawn(books: tuple[Ledger, str]) -> None:
    ledger, tenant = books
    await ledger.post(
        tenant, "topup-z", "topup", topup("wallet:budi", "clearing:bank", Decimal(5_000))
    )
    with pytest.raises(InsufficientFunds):
        await ledger.post(
            tenant,
            "kiosk-z",
            "purchase",
            purchase("wallet:budi", "merchant:canteen", Decimal(5_001)),
        )
    # the refused posting left nothing behind: the same key can be used again, correctly
    posted = await ledger.post(
        tenant, "kiosk-z", "purchase", purchase("wallet:budi", "merchant:canteen", Decimal(5_000))
    )
    assert posted.created
    assert await ledger.balance(tenant, "wallet:budi") == 0


async def test_the_database_refuses_an_unbalanced_posting_written_around_the_ledger(
    books: tuple[Ledger, str], pool: Pool
) -> None:
    _, tenant = books
    with pytest.raises(Exception, match="not balanced"):
        async with pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "INSERT INTO postings (tenant_id, idempotency_key, kind, fingerprint) "
                "VALUES (%s, 'sneaky', 'topup', 'x') RETURNING id",
                (tenant,),
            )
            row = await cur.fetchone()
            assert row is not None
            await conn.execute(
                "INSERT INTO ledger_entries (tenant_id, posting_id, account_id, amount) "
                "VALUES (%s, %s, 'wallet:budi', 100)",
                (tenant, row["id"]),
            )


def test_saku_ledger_verify_reports_the_invariant(stack: Settings) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "saku", "ledger", "verify"],
        env=stack.as_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ledger OK" in result.stdout
    assert "top-ups" in result.stdout
    assert "paid by the bank" in result.stdout


async def test_payouts_pending_holds_exactly_the_payouts_the_bank_has_not_paid(
    books: tuple[Ledger, str],
) -> None:
    ledger, tenant = books
    await ledger.open_account(tenant, "payouts:pending", "payouts_pending")
    await ledger.post(
        tenant, "topup-p", "topup", topup("wallet:budi", "clearing:bank", Decimal(5_000))
    )
    # money into payouts pending that no payout owes: reported
    await ledger.post(
        tenant, "payout:x", "payout", payout("wallet:budi", "payouts:pending", Decimal(5_000))
    )
    result = await ledger.verify(tenant)
    assert result.problems == [
        f"tenant {tenant}: payouts pending holds 5000.0000, but the payouts not yet paid come to 0"
    ]
    # paid out through the bank's clearing account: pending is empty, the books agree again
    await ledger.post(
        tenant,
        "payout-paid:x",
        "payout_paid",
        payout_paid("payouts:pending", "clearing:bank", Decimal(5_000)),
    )
    result = await ledger.verify(tenant)
    assert result.ok, result.problems
    assert (result.wallets, result.topups, result.payouts, result.paid_out) == (
        0,
        5_000,
        5_000,
        5_000,
    )


async def test_saku_ledger_verify_fails_on_a_tampered_balance(
    books: tuple[Ledger, str], pool: Pool, stack: Settings
) -> None:
    ledger, tenant = books
    await ledger.post(
        tenant, "topup-t", "topup", topup("wallet:budi", "clearing:bank", Decimal(700))
    )
    tamper = (
        "UPDATE ledger_balances SET balance = balance + %s "
        "WHERE tenant_id = %s AND account_id = 'wallet:budi'"
    )
    async with pool.connection() as conn:
        await conn.execute(tamper, (1, tenant))
    try:
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "saku", "ledger", "verify", "--tenant", tenant],
            env=stack.as_environment(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        async with pool.connection() as conn:
            await conn.execute(tamper, (-1, tenant))
    assert result.returncode == 1
    assert "cached balance 701" in result.stdout and "ledger NOT OK" in result.stdout
