"""`saku bench kiosk`: signed kiosk payments at a chosen rate, request -> decision.

One run, against the configured stack (the embedded one unless URLs are set):
1. a fresh tenant with the default configuration, a school, a canteen, kiosks with keys,
   and students with money in their wallets and a guardian limit each (not measured);
2. a `saku api` process (with its in-process worker, so payment workflows start eagerly);
3. warm-up payments (not measured), then payments offered open-loop at the rate, each a
   signed HTTP request from a kiosk; latency is request sent -> receipt received, so it
   includes signature checks, the workflow, monitoring and the ledger posting;
4. baseline in the same run: no-op workflows started eagerly and awaited from this
   process at the same rate, on a worker in this process: the floor Temporal sets.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from activities.accounts import create_tenant
from activities.monitoring.config_store import ConfigStore, import_bundle
from activities.monitoring.defaults import default_bundle
from activities.wallet.directory import TOPUP_CLEARING, Controls, Directory, wallet_account
from activities.wallet.kiosk_keys import KioskKeys
from activities.wallet.ledger import Ledger, topup
from core.db import Pool, create_pool
from core.kiosk_signing import generate_key_pair, sign_request
from core.security import Principal, Role
from core.settings import Settings
from core.temporal.client import connect
from core.temporal.worker import create_worker
from saku.bench.report import machine, percentile, start_saku, table
from saku.stack.process import free_port
from workflows.noop import NoOpWorkflow

CATEGORIES = ("meals", "snacks", "drinks")


@dataclass(frozen=True)
class KioskOptions:
    payments: int = 1000
    rate: float = 50.0
    students: int = 300
    kiosks: int = 3
    warm_up: int = 30
    seed: int = 11


@dataclass(frozen=True)
class BenchKiosk:
    id: str
    key_id: str
    private_key: Ed25519PrivateKey


async def set_up_school(
    pool: Pool, tenant: str, opts: KioskOptions
) -> tuple[list[BenchKiosk], list[str]]:
    """A school with a canteen, kiosks with registered keys, and students with IDR 1,000,000
    in their wallets and a daily limit of 500,000 each (also the fault scorecard's school)."""
    directory, ledger, keys = Directory(pool), Ledger(pool), KioskKeys(pool)
    await directory.create_school(tenant, "sd-1", "SD Bench")
    await directory.create_merchant(tenant, "sd-1", "kantin", "Kantin")
    for category in CATEGORIES:
        await directory.create_category(tenant, category, category.title())
    admin = Principal("bench", Role.ADMIN, tenant)
    kiosks = []
    for k in range(opts.kiosks):
        await directory.create_kiosk(tenant, "sd-1", "kantin", f"kiosk-{k}", f"Till {k}")
        private_key, public_key = generate_key_pair()
        key_id = await keys.register(tenant, f"kiosk-{k}", public_key, admin)
        kiosks.append(BenchKiosk(f"kiosk-{k}", key_id, private_key))
    students = []
    for s in range(opts.students):
        student = f"stu-{s:04d}"
        await directory.create_student(tenant, "sd-1", student, f"Student {s}")
        entries = topup(wallet_account(student), TOPUP_CLEARING, Decimal(1_000_000))
        await ledger.post(tenant, f"seed-{student}", "topup", entries)
        await directory.set_controls(
            tenant, student, Controls(daily_limit=Decimal(500_000)), "bench"
        )
        students.append(student)
    return kiosks, students


async def _pay(
    http: httpx.AsyncClient, tenant: str, kiosk: BenchKiosk, body: dict[str, object]
) -> tuple[float, str]:
    content = json.dumps(body).encode()
    started = time.perf_counter()
    headers = sign_request(
        kiosk.private_key, tenant, kiosk.id, kiosk.key_id, "POST", "/v1/kiosk/payments", content
    )
    headers["Content-Type"] = "application/json"
    response = await http.post("/v1/kiosk/payments", content=content, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        return elapsed, f"HTTP {response.status_code}"
    return elapsed, str(response.json()["reason_code"] or "approved")


Call = Callable[[int], Coroutine[Any, Any, tuple[float, str]]]


async def _open_loop(rate: float, count: int, one: Call) -> list[tuple[float, str]]:
    """Fire `one(i)` at `rate` per second regardless of how long earlier ones take."""
    began = time.perf_counter()
    tasks = []
    for i in range(count):
        delay = began + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    return list(await asyncio.gather(*tasks))


async def _noop_latencies(settings: Settings, rate: float, count: int) -> list[float]:
    client = await connect(settings)
    queue = f"bench-noop-{uuid.uuid4().hex[:6]}"
    async with create_worker(client, queue, [NoOpWorkflow], []):

        async def one(i: int) -> tuple[float, str]:
            started = time.perf_counter()
            handle = await client.start_workflow(
                NoOpWorkflow.run,
                "x",
                id=f"{queue}-{i}",
                task_queue=queue,
                request_eager_start=True,
            )
            await handle.result()
            return (time.perf_counter() - started) * 1000, "ok"

        await _open_loop(rate, 10, one)
        results = await _open_loop(rate, count, one)
    return [latency for latency, _ in results]


async def _wait_ready(http: httpx.AsyncClient) -> None:
    for _ in range(300):
        try:
            if (await http.get("/health/ready")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the API did not become ready (see var/log/bench-api.log)")


async def run_kiosk_bench(settings: Settings, opts: KioskOptions) -> str:
    run = uuid.uuid4().hex[:8]
    tenant = f"bench-{run}"
    settings = settings.model_copy(
        update={"task_queue": f"bench-{run}", "api_port": free_port(), "log_level": "WARNING"}
    )
    rng = random.Random(opts.seed)
    async with create_pool(settings.resolved_database_url(), max_size=4) as pool:
        async with pool.connection() as conn:
            await create_tenant(conn, tenant, "Benchmark school foundation")
        await import_bundle(ConfigStore(pool), tenant, default_bundle())
        print(f"setting up a school: {opts.students} students, {opts.kiosks} kiosks…")
        kiosks, students = await set_up_school(pool, tenant, opts)

    def body(i: int) -> dict[str, object]:
        return {
            "kiosk_tx_id": f"{run}-{i}",
            "student_id": rng.choice(students),
            "amount": str(rng.choice((2000, 3500, 5000, 7500, 10000, 12000))),
            "category_id": rng.choice(CATEGORIES),
            "auth_method": "fingerprint",
            "match_score": rng.randint(60, 250),
        }

    api = start_saku(settings, "api")
    base_url = f"http://{settings.api_host}:{settings.api_port}"
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as http:
            await _wait_ready(http)

            async def one(i: int) -> tuple[float, str]:
                return await _pay(http, tenant, kiosks[i % len(kiosks)], body(i))

            async def warm(i: int) -> tuple[float, str]:
                return await one(opts.payments + i)

            print(f"warming up with {opts.warm_up} payments…")
            await _open_loop(opts.rate, opts.warm_up, warm)
            print(f"paying: {opts.payments} payments at {opts.rate:g}/s…")
            began = time.perf_counter()
            results = await _open_loop(opts.rate, opts.payments, one)
            elapsed = time.perf_counter() - began
    finally:
        api.terminate()
        api.wait(30)
    print("baseline: no-op workflows at the same rate…")
    noop = await _noop_latencies(settings, opts.rate, min(opts.payments, 500))

    # latency of the decided payments (approved or declined); refusals are counted apart
    latencies = [latency for latency, outcome in results if not outcome.startswith("HTTP")]
    outcomes = Counter(outcome for _, outcome in results)
    p = {q: percentile(latencies, q) for q in (0.5, 0.95, 0.99, 1.0)}
    n = {q: percentile(noop, q) for q in (0.5, 0.95, 0.99)}
    rows = [
        ("machine", machine()),
        (
            "setup",
            f"{opts.students} students, {opts.kiosks} kiosks, default network map "
            "(canteen-misuse typology, 9 school rules on every purchase)",
        ),
        ("offered rate", f"{opts.rate:g} payments/s, open loop, {opts.payments} payments"),
        (
            "decided",
            f"{len(latencies) / elapsed:,.1f} payments/s ({len(latencies)} of {len(results)})",
        ),
        (
            "outcomes",
            ", ".join(f"{k} {v}" for k, v in outcomes.most_common())
            + " (HTTP 503: busy, the kiosk asks again)",
        ),
        (
            "latency request -> decision",
            f"p50 {p[0.5]:.1f}, p95 {p[0.95]:.1f}, p99 {p[0.99]:.1f}, max {p[1.0]:.1f} ms",
        ),
        (
            "baseline: no-op workflow",
            f"p50 {n[0.5]:.1f}, p95 {n[0.95]:.1f}, p99 {n[0.99]:.1f} ms "
            "(eager start + result, same rate)",
        ),
        ("payment / no-op", f"p50 {p[0.5] / n[0.5]:.1f}x, p99 {p[0.99] / n[0.99]:.1f}x"),
        ("target", "p50 <= 35 ms, p99 <= 100 ms at 50 payments/s"),
    ]
    return table("saku bench kiosk", rows)
