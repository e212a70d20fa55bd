"""`saku ledger verify`: the ledger's invariants, checked against the database."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from core.settings import Settings


def register(commands: Any) -> None:
    ledger = commands.add_parser("ledger", help="the double-entry ledger")
    sub = ledger.add_subparsers(dest="action", required=True, metavar="ACTION")
    verify = sub.add_parser(
        "verify",
        help="postings balance, cached balances match, wallets - debts = top-ups - purchases"
        " + refunds - payouts; payouts pending = payouts the bank has not paid",
    )
    verify.add_argument("--tenant", help="one tenant (default: all)")
    verify.set_defaults(handler=verify_ledger)


def verify_ledger(settings: Settings, args: argparse.Namespace) -> int:
    from activities.wallet.ledger import Ledger, Verification
    from core.db import create_pool

    async def run() -> Verification:
        async with create_pool(settings.resolved_database_url(), max_size=1) as pool:
            return await Ledger(pool).verify(args.tenant)

    result = asyncio.run(run())
    print(
        f"wallets {result.wallets:,.2f} - debts {result.debts:,.2f} = top-ups "
        f"{result.topups:,.2f} - purchases "
        f"{result.purchases:,.2f} + refunds {result.refunds:,.2f} - payouts {result.payouts:,.2f}"
    )
    print(
        f"payouts {result.payouts:,.2f}: paid by the bank {result.paid_out:,.2f}, "
        f"pending {result.payouts - result.paid_out:,.2f}"
    )
    for problem in result.problems:
        print(f"PROBLEM: {problem}")
    print("ledger OK" if result.ok else f"ledger NOT OK: {len(result.problems)} problem(s)")
    return 0 if result.ok else 1
