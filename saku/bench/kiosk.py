"""`saku bench kiosk`: signed kiosk payments at a chosen rate, request -> decision.

One run, against the configured stack (the embedded one unless URLs are set):
1. a fresh tenant with the default configuration, a school, a canteen, kiosks with keys,
   and students with money in their wallets and a guardian limit each (not measured);
2. one or more `saku api` processes, each with its in-process worker (so payment workflows
   start eagerly), on one task queue;
3. warm-up payments (not measured), then payments offered open-loop at the rate, each a
   signed HTTP request from a kiosk, spread over the API processes in turn; latency is
   request sent -> receipt received, so it includes signature checks, the workflow,
   monitoring and the ledger posting;
4. baseline in the same run: no-op workflows started eagerly and awaited from this
   process at the same rate, on a worker in this process: the floor Temporal sets.

What a payment costs, beside its latency: the CPU time each process of this machine's
stack spent over the measured payments (saku/bench/cpu.py), the Temporal history events
of the run's workflows (read from their histories), and the SQL statements PostgreSQL ran
for them (pg_stat_statements); each set beside the no-op baseline's where it has one.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlparse

import httpx
import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import Client

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
from saku.bench.cpu import cpu_by_role, cpu_seconds, ours
from saku.bench.report import machine, percentile, start_saku, table
from saku.stack.components import Postgres
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
    api_processes: int = 1
    history_sample: int = 200  # histories read to count events per payment


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


@dataclass(frozen=True)
class NoOpRun:
    latencies: list[float]  # ms, each workflow started and awaited
    cpu: dict[str, float]  # CPU seconds by role over the measured workflows
    task_queue: str


async def _noop_baseline(settings: Settings, rate: float, count: int) -> NoOpRun:
    client = await connect(settings)
    queue = f"bench-noop-{uuid.uuid4().hex[:6]}"
    measured = ours(settings)
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

        await _open_loop(rate, 10, lambda i: one(count + i))
        cpu_before = cpu_seconds(measured)
        results = await _open_loop(rate, count, one)
        cpu = cpu_by_role(cpu_before, cpu_seconds(measured))
    return NoOpRun([latency for latency, _ in results], cpu, queue)


@dataclass(frozen=True)
class ApiProcess:
    pid: int
    base_url: str


async def _wait_ready(http: httpx.AsyncClient, process: subprocess.Popen[bytes], log: str) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError(f"a `saku api` process ended at its start (see {log})")
        try:
            if (await http.get("/health/ready")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"a `saku api` process did not become ready (see {log})")


@asynccontextmanager
async def api_processes(settings: Settings, count: int) -> AsyncIterator[list[ApiProcess]]:
    """`count` `saku api` processes on free ports, each with its in-process worker on the
    settings' task queue, ready to serve; stopped (SIGTERM, graceful) on leaving.
    Logs: var/log/bench-api-<k>.log."""
    started: list[tuple[subprocess.Popen[bytes], ApiProcess]] = []
    try:
        for k in range(count):
            port = free_port()
            process = start_saku(
                settings.model_copy(update={"api_port": port}), "api", f"bench-api-{k}"
            )
            started.append((process, ApiProcess(process.pid, f"http://{settings.api_host}:{port}")))
        for k, (process, api) in enumerate(started):
            log = str(settings.var_dir / "log" / f"bench-api-{k}.log")
            async with httpx.AsyncClient(base_url=api.base_url, timeout=5) as http:
                await _wait_ready(http, process, log)
        yield [api for _, api in started]
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            process.wait(30)


@dataclass(frozen=True)
class TypeEvents:
    """One workflow type's runs on a task queue, and the events of those whose history was
    read."""

    runs: int
    read: int
    events: int

    @property
    def per_run(self) -> float:
        return self.events / self.read if self.read else 0.0


@dataclass(frozen=True)
class HistoryEvents:
    """The history events of a task queue's workflows, by workflow type."""

    by_type: dict[str, TypeEvents]

    @property
    def runs(self) -> int:
        return sum(t.runs for t in self.by_type.values())

    @property
    def read(self) -> int:
        return sum(t.read for t in self.by_type.values())

    @property
    def total(self) -> float:
        """Events of every run on the queue (estimated from those read, type by type)."""
        return sum(t.per_run * t.runs for t in self.by_type.values())


async def history_events(
    client: Client, task_queue: str, sample: int, seed: int = 0
) -> HistoryEvents:
    """Count the events of the workflows started on `task_queue` (every run, whatever its
    type: payments and the cases they open), reading about `sample` histories in all, each
    type's share of them and at least one."""
    runs: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    async for execution in client.list_workflows(f"TaskQueue = '{task_queue}'"):
        runs[execution.workflow_type].append((execution.id, execution.run_id))
    everything = sum(len(of_type) for of_type in runs.values())
    limit = asyncio.Semaphore(8)

    async def events(workflow_id: str, run_id: str | None) -> int:
        async with limit:
            handle = client.get_workflow_handle(workflow_id, run_id=run_id)
            return len((await handle.fetch_history()).events)

    by_type = {}
    for kind, of_type in sorted(runs.items()):
        share = max(1, round(sample * len(of_type) / everything))
        chosen = random.Random(seed).sample(of_type, min(share, len(of_type)))
        counts = await asyncio.gather(*(events(w, r) for w, r in chosen))
        by_type[kind] = TypeEvents(len(of_type), len(chosen), sum(counts))
    return HistoryEvents(by_type)


@dataclass(frozen=True)
class SqlCount:
    """Statements PostgreSQL has run in one database so far (pg_stat_statements' calls)."""

    statements: int
    control: int  # of which BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE
    transactions: int  # BEGIN: the explicit transactions (the others are single statements)
    evicted: int  # statements pg_stat_statements has dropped to make room (counts lost)

    def __sub__(self, before: SqlCount) -> SqlCount:
        return SqlCount(
            self.statements - before.statements,
            self.control - before.control,
            self.transactions - before.transactions,
            self.evicted - before.evicted,
        )


# transaction control: BEGIN/START TRANSACTION, COMMIT/END, ROLLBACK, SAVEPOINT, RELEASE
_SQL_COUNT = r"""
    SELECT coalesce(sum(s.calls), 0)::bigint AS statements,
           coalesce(sum(s.calls) FILTER (
               WHERE s.query ~* '^\s*(begin|start|commit|end|rollback|savepoint|release)\M'
           ), 0)::bigint AS control,
           coalesce(sum(s.calls) FILTER (WHERE s.query ~* '^\s*(begin|start)\M'), 0)::bigint
               AS transactions,
           (SELECT dealloc FROM pg_stat_statements_info) AS evicted
    FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
    WHERE d.datname = %s"""


async def sql_count(settings: Settings) -> SqlCount | str:
    """What Saku's database has run so far, from pg_stat_statements, read as the embedded
    server's superuser in its maintenance database (the extension is created there, so
    Saku's own database is left as its migrations made it); or why it cannot be counted."""
    if settings.database_url:
        return "not counted: PostgreSQL is external (the embedded one loads pg_stat_statements)"
    database = urlparse(settings.resolved_database_url()).path.lstrip("/")
    postgres = Postgres(settings).superuser_url("postgres")
    async with await psycopg.AsyncConnection.connect(postgres, autocommit=True) as conn:
        cur = await conn.execute("SELECT current_setting('shared_preload_libraries')")
        row = await cur.fetchone()
        if row is None or "pg_stat_statements" not in row[0]:
            return (
                "not counted: PostgreSQL was started without pg_stat_statements "
                "(`saku stack down` and up again loads it)"
            )
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        cur = await conn.execute(_SQL_COUNT, (database,))
        statements, control, transactions, evicted = await cur.fetchone() or (0, 0, 0, 0)
    return SqlCount(statements, control, transactions, evicted)


@dataclass
class KioskRun:
    """What one run measured."""

    results: list[tuple[float, str]]  # (ms, outcome) of each measured payment
    elapsed: float  # s, from the first measured payment sent to the last answer
    warm_decided: int  # warm-up payments decided
    cpu: dict[str, float]  # CPU seconds by role over the measured payments
    sql: SqlCount | str  # statements over the measured payments, or why not counted
    apis: list[ApiProcess]


def _decided(results: list[tuple[float, str]]) -> list[float]:
    """Latencies of the decided payments (approved or declined); refusals are apart."""
    return [latency for latency, outcome in results if not outcome.startswith("HTTP")]


async def _pay_at_rate(
    settings: Settings,
    opts: KioskOptions,
    tenant: str,
    kiosks: list[BenchKiosk],
    body: Callable[[int], dict[str, object]],
) -> KioskRun:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    measured = ours(settings)
    async with api_processes(settings, opts.api_processes) as apis:
        clients = [
            httpx.AsyncClient(base_url=api.base_url, timeout=30, limits=limits) for api in apis
        ]
        try:

            async def one(i: int) -> tuple[float, str]:
                http = clients[i % len(clients)]
                return await _pay(http, tenant, kiosks[i % len(kiosks)], body(i))

            async def warm(i: int) -> tuple[float, str]:
                return await one(opts.payments + i)

            print(f"warming up with {opts.warm_up} payments…")
            warm_results = await _open_loop(opts.rate, opts.warm_up, warm)
            print(f"paying: {opts.payments} payments at {opts.rate:g}/s…")
            sql_before = await sql_count(settings)
            cpu_before = cpu_seconds(measured)
            began = time.perf_counter()
            results = await _open_loop(opts.rate, opts.payments, one)
            elapsed = time.perf_counter() - began
            cpu = cpu_by_role(cpu_before, cpu_seconds(measured))
            sql_after = await sql_count(settings)
        finally:
            for http in clients:
                await http.aclose()
    sql = (
        sql_after - sql_before
        if isinstance(sql_after, SqlCount) and isinstance(sql_before, SqlCount)
        else str(sql_after)
    )
    return KioskRun(results, elapsed, len(_decided(warm_results)), cpu, sql, apis)


async def run_kiosk_bench(settings: Settings, opts: KioskOptions) -> str:
    run = uuid.uuid4().hex[:8]
    tenant = f"bench-{run}"
    settings = settings.model_copy(update={"task_queue": f"bench-{run}", "log_level": "WARNING"})
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

    kiosk_run = await _pay_at_rate(settings, opts, tenant, kiosks, body)
    print("baseline: no-op workflows at the same rate…")
    noop = await _noop_baseline(settings, opts.rate, min(opts.payments, 500))
    print("reading workflow histories…")
    client = await connect(settings)
    events = await history_events(client, settings.task_queue, opts.history_sample, opts.seed)
    noop_events = await history_events(client, noop.task_queue, opts.history_sample, opts.seed)
    return _report(settings, opts, kiosk_run, noop, events, noop_events)


def _ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.1f}x" if baseline > 0 else "-"


# the roles always shown, in this order; others only when they spent something
_CPU_ROLES = ("saku api", "Temporal", "PostgreSQL", "Valkey", "load generator")
_CPU_NOTES = {
    "saku api": "HTTP, signatures, and the in-process worker: workflow tasks, rules, SQL",
    "load generator": "signing and sending the payments",
    "Kafka (Tansu)": "not on a payment's path",
}


def _cpu_rows(run: KioskRun, noop: NoOpRun, decided: int) -> list[tuple[str, str]]:
    per_payment = {role: s * 1000 / max(1, decided) for role, s in run.cpu.items()}
    per_noop = {role: s * 1000 / max(1, len(noop.latencies)) for role, s in noop.cpu.items()}
    total, noop_total = sum(per_payment.values()), sum(per_noop.values())
    rows = [
        (
            "CPU per payment",
            f"{total:.2f} ms in all (no-op workflow {noop_total:.2f} ms, its worker in the "
            f"load generator: {_ratio(total, noop_total)}), by process:",
        )
    ]
    others = sorted(
        (r for r, ms in per_payment.items() if r not in _CPU_ROLES and ms >= 0.01),
        key=lambda r: -per_payment[r],
    )
    for role in (*_CPU_ROLES, *others):
        ms = per_payment.get(role, 0.0)
        notes = []
        if role == "saku api" and len(run.apis) > 1:
            notes.append(f"{len(run.apis)} processes")
        if role in _CPU_NOTES:
            notes.append(_CPU_NOTES[role])
        if role == "Temporal":  # the share a workflow start costs the server, whatever it does
            temporal = per_noop.get(role, 0.0)
            notes.append(f"no-op workflow {temporal:.2f} ms: {_ratio(ms, temporal)}")
        rows.append((f"  {role}", f"{ms:.2f} ms" + (f" ({'; '.join(notes)})" if notes else "")))
        if role == "saku api":
            rows.append(("  worker", "in the saku api process (no process of its own): above"))
    return rows


def _events_row(events: HistoryEvents, noop_events: HistoryEvents, payments: int) -> str:
    """History events per payment: every workflow on the run's queue, warm-up included,
    over every payment decided, warm-up included."""
    per_payment = events.total / max(1, payments)
    per_noop = noop_events.total / max(1, noop_events.runs)
    kinds = ", ".join(
        f"{kind} {t.runs} runs x {t.per_run:.1f}" for kind, t in events.by_type.items()
    )
    return (
        f"{per_payment:.1f} (no-op workflow {per_noop:.1f}: {_ratio(per_payment, per_noop)}); "
        f"{kinds} for {payments} payments; {events.read} of {events.runs} histories read"
    )


def _report(
    settings: Settings,
    opts: KioskOptions,
    run: KioskRun,
    noop: NoOpRun,
    events: HistoryEvents,
    noop_events: HistoryEvents,
) -> str:
    latencies = _decided(run.results)
    decided = len(latencies)
    outcomes = Counter(outcome for _, outcome in run.results)
    p = {q: percentile(latencies, q) for q in (0.5, 0.95, 0.99, 1.0)}
    n = {q: percentile(noop.latencies, q) for q in (0.5, 0.95, 0.99)}
    processes = len(run.apis)
    rows = [
        ("machine", machine()),
        (
            "setup",
            f"{opts.students} students, {opts.kiosks} kiosks, default network map "
            "(canteen-misuse typology, 9 school rules on every purchase)",
        ),
        (
            "API processes",
            f"{processes} `saku api`, each with its in-process worker, on one Temporal, "
            "PostgreSQL and Valkey; payments sent to each in turn",
        ),
        ("offered rate", f"{opts.rate:g} payments/s, open loop, {opts.payments} payments"),
        (
            "decided",
            f"{decided / run.elapsed:,.1f} payments/s ({decided} of {len(run.results)})",
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
        ("payment / no-op", f"p50 {_ratio(p[0.5], n[0.5])}, p99 {_ratio(p[0.99], n[0.99])}"),
        *_cpu_rows(run, noop, decided),
        (
            "history events per payment",
            _events_row(events, noop_events, decided + run.warm_decided),
        ),
        ("SQL per payment", _sql_row(run.sql, decided)),
        ("target", "p50 <= 35 ms, p99 <= 100 ms at 50 payments/s"),
    ]
    return table("saku bench kiosk", rows)


def _sql_row(sql: SqlCount | str, decided: int) -> str:
    if isinstance(sql, str):
        return sql
    per = max(1, decided)
    row = (
        f"{sql.statements / per:.1f} statements: {(sql.statements - sql.control) / per:.1f} "
        f"queries and {sql.control / per:.1f} transaction control "
        f"({sql.transactions / per:.1f} BEGIN); pg_stat_statements' calls in Saku's database "
        "over the measured payments"
    )
    if sql.evicted:
        row += f" (undercounted: {sql.evicted} statements evicted from its table meanwhile)"
    return row
