"""Scale-out: two `saku api` processes, each with its in-process worker, on one Temporal,
one PostgreSQL and one Valkey. Kiosk payments go to both, the same transaction id to both
at once, and every one is asked again at the other process; each payment is decided once:
one workflow, one evaluation, at most one posting, the same receipt wherever it was asked,
balances that add up and a ledger that verifies, and both processes' workers deciding."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from activities.accounts import create_tenant
from activities.monitoring.config_store import ConfigStore, import_bundle
from activities.monitoring.defaults import default_bundle
from activities.wallet.directory import wallet_account
from activities.wallet.ledger import Ledger
from core.db import Pool
from core.kiosk_signing import sign_request
from core.settings import Settings
from core.temporal.client import workflow_pollers
from saku.bench.kiosk import CATEGORIES, BenchKiosk, KioskOptions, api_processes, set_up_school
from tests.stackutil import eventually

pytestmark = pytest.mark.integration

WALLET = Decimal(1_000_000)  # what set_up_school puts in every wallet
OVER_THE_DAILY_LIMIT = 600_000  # set_up_school's daily limit is 500,000: declined


@dataclass(frozen=True)
class Sale:
    kiosk: BenchKiosk
    body: dict[str, Any]

    @property
    def tx(self) -> str:
        return str(self.body["kiosk_tx_id"])


async def _decide(http: httpx.AsyncClient, tenant: str, sale: Sale) -> dict[str, Any]:
    """Ask until decided, as a kiosk does: a 503 (busy, or still deciding) is asked again
    with the same transaction id, signed anew."""
    deadline = time.monotonic() + 120
    while True:
        content = json.dumps(sale.body).encode()
        headers = sign_request(
            sale.kiosk.private_key,
            tenant,
            sale.kiosk.id,
            sale.kiosk.key_id,
            "POST",
            "/v1/kiosk/payments",
            content,
        )
        headers["Content-Type"] = "application/json"
        response = await http.post("/v1/kiosk/payments", content=content, headers=headers)
        if response.status_code == 503 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            continue
        assert response.status_code == 200, response.text
        return dict(response.json())


async def _workflow_task_workers(client: Client, workflow_id: str, run_id: str | None) -> set[int]:
    """The pids of the workers that completed the workflow's tasks (a worker's identity is
    its client's, `<pid>@<host>` by default)."""
    history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
    return {
        int(event.workflow_task_completed_event_attributes.identity.split("@")[0])
        for event in history.events
        if event.HasField("workflow_task_completed_event_attributes")
    }


async def test_two_api_processes_on_one_stack_decide_every_payment_once(
    stack: Settings, pool: Pool, temporal: Client
) -> None:
    run = uuid.uuid4().hex[:8]
    tenant = f"scale-{run}"
    settings = stack.model_copy(update={"task_queue": f"scale-{run}", "log_level": "WARNING"})
    async with pool.connection() as conn:
        await create_tenant(conn, tenant, "Scale-out school foundation")
    await import_bundle(ConfigStore(pool), tenant, default_bundle())
    kiosks, students = await set_up_school(pool, tenant, KioskOptions(students=6, kiosks=2))
    rng = random.Random(24)

    def sale(tx: str, amount: int | None = None) -> Sale:
        return Sale(
            rng.choice(kiosks),
            {
                "kiosk_tx_id": tx,
                "student_id": rng.choice(students),
                "amount": str(amount or rng.choice((2000, 3500, 5000, 7500))),
                "category_id": rng.choice(CATEGORIES),
                "auth_method": "fingerprint",
                "match_score": rng.randint(60, 250),
            },
        )

    at_both = [sale(f"{run}-both-{i}") for i in range(12)]
    mixed = [
        sale(f"{run}-mix-{i}", OVER_THE_DAILY_LIMIT if i % 6 == 5 else None) for i in range(24)
    ]
    answers: list[tuple[int, str, dict[str, Any]]] = []  # (process, tx id, receipt)

    async with api_processes(settings, 2) as apis:
        clients = [httpx.AsyncClient(base_url=api.base_url, timeout=30) for api in apis]
        try:
            # both in-process workers poll before the first payment: each process's eager
            # starts then run on its own worker
            assert await eventually(
                lambda: _polled_by_two(temporal, settings.task_queue), timeout=60, interval=0.2
            ), "the two API processes' workers did not poll the task queue"

            async def ask(process: int, one: Sale) -> None:
                answers.append((process, one.tx, await _decide(clients[process], tenant, one)))

            # the same ids at both processes at once, and distinct ones at either in turn
            await asyncio.gather(
                *(ask(process, one) for one in at_both for process in (0, 1)),
                *(ask(i % 2, one) for i, one in enumerate(mixed)),
            )
            # retries: every mixed payment asked again at the other process, some of the
            # first ones again at both
            await asyncio.gather(
                *(ask((i + 1) % 2, one) for i, one in enumerate(mixed)),
                *(ask(process, one) for one in at_both[:4] for process in (0, 1)),
            )
        finally:
            for http in clients:
                await http.aclose()

    sales = {one.tx: one for one in [*at_both, *mixed]}
    assert len(answers) == 2 * 12 + 24 + 24 + 2 * 4
    # both processes answered, and every answer to an id is the same receipt
    assert Counter(process for process, _, _ in answers) == {0: 40, 1: 40}
    receipts: dict[str, dict[str, Any]] = {}
    for _, tx, receipt in answers:
        assert receipts.setdefault(tx, receipt) == receipt, (tx, receipts[tx], receipt)
    assert receipts.keys() == sales.keys()
    approved = {tx: r for tx, r in receipts.items() if r["status"] == "approved"}
    declined = {tx: r for tx, r in receipts.items() if r["status"] == "declined"}
    assert approved.keys() | declined.keys() == sales.keys()
    # the payments over the daily limit were declined, and the others could be approved
    assert {tx for tx, one in sales.items() if one.body["amount"] == str(OVER_THE_DAILY_LIMIT)} <= (
        declined.keys()
    )
    assert len(approved) >= 12

    # one workflow per transaction id, each decided by one of the two processes' workers,
    # and both of them deciding some
    query = f"TaskQueue = '{settings.task_queue}' AND WorkflowType = 'KioskPayment'"

    async def payment_runs() -> list[tuple[str, str | None]]:
        return [(e.id, e.run_id) async for e in temporal.list_workflows(query)]

    async def all_listed() -> bool:
        return len(await payment_runs()) >= len(sales)

    assert await eventually(all_listed, timeout=30, interval=0.2)
    runs = await payment_runs()
    assert Counter(workflow_id for workflow_id, _ in runs).most_common(1)[0][1] == 1, runs
    assert {workflow_id for workflow_id, _ in runs} == {r["workflow_id"] for r in receipts.values()}
    workers = await asyncio.gather(*(_workflow_task_workers(temporal, w, r) for w, r in runs))
    assert all(len(pids) == 1 for pids in workers), workers
    assert set().union(*workers) == {api.pid for api in apis}

    # one payment record, one evaluation and (if approved) one posting per transaction id
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT kiosk_tx_id, status, posting_id::text AS posting_id FROM payments "
            "WHERE tenant_id = %s",
            (tenant,),
        )
        recorded = {row["kiosk_tx_id"]: row for row in await cur.fetchall()}
        cur = await conn.execute(
            "SELECT id::text AS id, idempotency_key FROM postings "
            "WHERE tenant_id = %s AND kind = 'purchase'",
            (tenant,),
        )
        postings = await cur.fetchall()
        cur = await conn.execute(
            "SELECT evaluation_id::text AS id FROM evaluations WHERE tenant_id = %s", (tenant,)
        )
        evaluations = [row["id"] for row in await cur.fetchall()]
    assert recorded.keys() == sales.keys()
    assert all(recorded[tx]["status"] == r["status"] for tx, r in receipts.items())
    assert len(postings) == len(approved)
    assert {p["id"] for p in postings} == {r["posting_id"] for r in approved.values()}
    assert all(r["posting_id"] is None for r in declined.values())
    assert len(evaluations) == len(sales)
    assert set(evaluations) == {r["evaluation_id"] for r in receipts.values()}

    # the money moved once: each wallet is down by its approved payments, and the ledger
    # verifies
    spent: dict[str, Decimal] = defaultdict(Decimal)
    for receipt in approved.values():
        spent[receipt["student_id"]] += Decimal(receipt["amount"])
    ledger = Ledger(pool)
    for student in students:
        assert await ledger.balance(tenant, wallet_account(student)) == WALLET - spent[student]
    verification = await ledger.verify(tenant)
    assert verification.ok, verification.problems
    assert verification.purchases == sum(spent.values())


async def _polled_by_two(client: Client, task_queue: str) -> bool:
    return await workflow_pollers(client, task_queue) >= 2
