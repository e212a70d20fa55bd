"""`saku simulate`: one school's canteen day on a running Saku, with a live summary and the
ledger's invariant checked at the end."""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from activities.wallet.ledger import Ledger
from core.db import Pool, create_pool
from core.settings import Settings
from core.temporal.client import connect
from saku.simulate.bank import answer_payout_requests, answer_topup_requests
from saku.simulate.day import CanteenDay, DayOptions
from saku.simulate.school import School, set_up_school, staff_sign_in


async def _count(pool: Pool, sql: str, *params: object) -> int:
    async with pool.connection() as conn:
        row = await (await conn.execute(sql, params)).fetchone()
    return int(row["n"]) if row else 0


async def _until(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not finish in {timeout:.0f} s")
        await asyncio.sleep(0.5)


async def _summary(pool: Pool, school: School) -> tuple[list[str], bool]:
    tenant = school.tenant
    async with pool.connection() as conn:
        payments = await (
            await conn.execute(
                "SELECT status, coalesce(reason_code, '') AS reason, auth_method, offline, "
                "count(*) AS n, sum(amount) AS amount, sum(debt) AS debt FROM payments "
                "WHERE tenant_id = %s GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC",
                (tenant,),
            )
        ).fetchall()
        topups = await (
            await conn.execute(
                "SELECT status, count(*) AS n, sum(amount) AS amount FROM topups "
                "WHERE tenant_id = %s GROUP BY 1",
                (tenant,),
            )
        ).fetchall()
        payouts = await (
            await conn.execute(
                "SELECT status, count(*) AS n, sum(amount) AS amount FROM payouts "
                "WHERE tenant_id = %s GROUP BY 1 ORDER BY 1",
                (tenant,),
            )
        ).fetchall()
        alerts = await (
            await conn.execute(
                """SELECT t->>'id' AS typology, count(*) AS n FROM evaluations e,
                          jsonb_array_elements(e.result->'adjudication'->'typologies') t
                   WHERE e.tenant_id = %s AND (t->>'review')::boolean
                   GROUP BY 1 ORDER BY 2 DESC""",
                (tenant,),
            )
        ).fetchall()
    approved = sum(r["n"] for r in payments if r["status"] == "approved")
    declined = [r for r in payments if r["status"] == "declined"]
    by_reason: dict[str, int] = {}
    for row in declined:
        by_reason[row["reason"]] = by_reason.get(row["reason"], 0) + row["n"]
    by_method: dict[str, int] = {}
    for row in payments:
        by_method[row["auth_method"]] = by_method.get(row["auth_method"], 0) + row["n"]
    offline = [r for r in payments if r["offline"]]
    debt = sum(r["debt"] or 0 for r in offline)
    verified = await Ledger(pool).verify(tenant)
    reasons = sorted(by_reason.items(), key=lambda kv: -kv[1])
    declines = ", ".join(f"{k} {v}" for k, v in reasons) or "none"
    invariant = "OK" if verified.ok else "NOT OK: " + "; ".join(verified.problems)
    lines = [
        f"payments      {approved} approved, {sum(by_reason.values())} declined ({declines})",
        "paid by       " + ", ".join(f"{k} {v}" for k, v in sorted(by_method.items())),
        f"offline       {sum(r['n'] for r in offline)} sales replayed, debt {debt:,.0f} IDR",
        "top-ups       "
        + ", ".join(f"{r['status']} {r['n']} ({r['amount']:,.0f} IDR)" for r in topups),
        "payouts       "
        + (
            f"{sum(r['n'] for r in payouts)} requested; "
            + ", ".join(f"{r['status']} {r['n']} ({r['amount']:,.0f} IDR)" for r in payouts)
            if payouts
            else "none"
        ),
        "alerts        " + (", ".join(f"{r['typology']} {r['n']}" for r in alerts) or "none"),
        f"ledger        wallets {verified.wallets:,.0f} - debts {verified.debts:,.0f} = top-ups "
        f"{verified.topups:,.0f} - purchases {verified.purchases:,.0f} + refunds "
        f"{verified.refunds:,.0f} - payouts {verified.payouts:,.0f}: {invariant}",
    ]
    return lines, verified.ok


async def run_canteen_day(
    settings: Settings, students: int, kiosks: int, options: DayOptions, seed: int
) -> bool:
    rng = random.Random(seed)

    def say(text: str) -> None:
        print(f"{time.strftime('%H:%M:%S')}  {text}", flush=True)

    base_url = f"http://{settings.api_host}:{settings.api_port}"
    async with create_pool(settings.resolved_database_url(), max_size=4) as pool:
        say(f"setting up SD Negeri Harapan: {students} students and guardians, {kiosks} kiosks")
        school = await set_up_school(pool, students, kiosks, rng)
        consenting = sum(s.consent for s in school.students)
        say(f"  {consenting} families consented to fingerprints; the others pay by PIN")
        # the bank answers the guardians' auto top-up requests all day
        answered: list[str] = []
        paid: list[str] = []
        bank_closes = asyncio.Event()
        bank = asyncio.gather(
            answer_topup_requests(settings, school.tenant, answered, bank_closes),
            answer_payout_requests(settings, school.tenant, paid, bank_closes),
        )
        with tempfile.TemporaryDirectory(prefix="saku-kiosks-") as folder:
            day = CanteenDay(settings, school, Path(folder), rng, say)
            await day.open_kiosks(httpx.AsyncHTTPTransport(), base_url)
            try:
                await day.enrolment(options.enrol)
                sent = await day.morning_topups()

                async def topped_up() -> bool:
                    done = await _count(
                        pool, "SELECT count(*) AS n FROM topups WHERE tenant_id = %s", school.tenant
                    )
                    return done >= sent

                await _until(topped_up, 300, "the morning top-ups")
                say("  every top-up evaluated and decided")

                async def progress() -> str:
                    n = await _count(
                        pool,
                        "SELECT count(*) AS n FROM payments WHERE tenant_id = %s",
                        school.tenant,
                    )
                    a = await _count(
                        pool,
                        "SELECT count(*) AS n FROM evaluations WHERE "
                        "tenant_id = %s AND status = 'ALRT'",
                        school.tenant,
                    )
                    return f"{n} payments decided, {a} evaluations alerted"

                await day.lunch_rush(options, progress)
                replayed = await day.sync()

                async def synced() -> bool:
                    done = await _count(
                        pool,
                        "SELECT count(*) AS n FROM payments WHERE tenant_id = %s AND offline",
                        school.tenant,
                    )
                    return done >= replayed

                await _until(synced, 120, "the offline sync")
                payout_id = await day.a_student_leaves(pool, await connect(settings))

                async def paid_back() -> bool:
                    return (
                        payout_id is None
                        or await _count(
                            pool,
                            "SELECT count(*) AS n FROM payouts WHERE tenant_id = %s AND id = %s "
                            "AND status = 'paid'",
                            school.tenant,
                            payout_id,
                        )
                        == 1
                    )

                await _until(paid_back, 60, "the leaver's payout")
                if payout_id is not None:
                    say("  the bank paid the balance back to the guardian")
            finally:
                day.close_kiosks()
                bank_closes.set()
                await asyncio.gather(bank, return_exceptions=True)
        if answered:
            say(f"  the bank answered {len(answered)} auto top-up request(s)")
        lines, ok = await _summary(pool, school)
        staff = await staff_sign_in(pool, school)
    print("\nthe day at SD Negeri Harapan (tenant " + school.tenant + ")")
    for line in lines:
        print("  " + line)
    print(f"\nclick through the day: sign in at {base_url}/sign-in")
    print(f"  school office  {base_url}/office  staff: {staff[0]} / password: {staff[1]}")
    family = school.guardian
    print(
        f"\nthe guardian portal: {base_url}/guardian\n"
        f"  sign in as {family.username} with password {family.password}\n"
        f"  (the parent of {family.children[0]} and {family.children[1]}; "
        "this password is made for this run only)"
    )
    return ok
