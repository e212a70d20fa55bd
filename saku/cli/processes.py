"""`saku worker`, `saku api`, `saku consume`, and `saku up` (everything together)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from saku.settings import Settings
from saku.stack.process import ManagedProcess, StackError

# Heavy imports (FastAPI, the Temporal SDK, Kafka) happen inside each command, so that
# `saku --help` and the quick commands start fast.

PROCESSES = ("worker", "api", "consume")
DEFAULT_TENANT = "DEFAULT"


def register(commands: Any) -> None:
    up_parser = commands.add_parser(
        "up", help="the stack, worker, API and consumer together, with a self-check"
    )
    up_parser.add_argument(
        "--check", action="store_true", help="run the self-check, then stop everything and exit"
    )
    up_parser.set_defaults(handler=up)
    commands.add_parser("worker", help="run a Temporal worker").set_defaults(handler=worker)
    commands.add_parser("api", help="serve the HTTP API").set_defaults(handler=api)
    commands.add_parser("consume", help="consume Saku's Kafka topics").set_defaults(handler=consume)


def worker(settings: Settings, args: argparse.Namespace) -> int:
    from saku.runtime import settle_garbage_collector
    from saku.services import run_worker, stop_on_signals

    async def main() -> None:
        await run_worker(settings, stop_on_signals())

    settle_garbage_collector()
    asyncio.run(main())
    return 0


def consume(settings: Settings, args: argparse.Namespace) -> int:
    from saku.runtime import settle_garbage_collector
    from saku.services import run_consumer, stop_on_signals

    async def main() -> None:
        await run_consumer(settings, stop_on_signals())

    settle_garbage_collector()
    asyncio.run(main())
    return 0


def api(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from saku.runtime import settle_garbage_collector

    config = uvicorn.Config(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,  # Saku's JSON logging stays in charge
        access_log=False,
    )
    settle_garbage_collector()
    uvicorn.Server(config).run()
    return 0


def _children(settings: Settings) -> list[ManagedProcess]:
    var = settings.var_dir.resolve()
    return [ManagedProcess(name, var / "run", var / "log") for name in PROCESSES]


def _wait_api_ready(settings: Settings, timeout: float = 30.0) -> None:
    import httpx

    url = f"http://{settings.api_host}:{settings.api_port}/health/ready"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise StackError(
        f"the API did not report ready at {url} in {timeout:.0f}s: see var/log/api.log"
    )


async def _selfcheck(settings: Settings) -> bool:
    from aiokafka import AIOKafkaProducer

    from api.selfcheck import run_selfcheck
    from saku import topics
    from saku.temporal.client import connect

    producer = AIOKafkaProducer(bootstrap_servers=settings.resolved_kafka_bootstrap())
    await producer.start()
    try:
        report = await run_selfcheck(
            producer, await connect(settings), settings.topic(topics.SELFCHECK.name), source="cli"
        )
    finally:
        await producer.stop()
    if report.ok:
        print(
            f"self-check passed in {report.seconds * 1000:.0f} ms: Kafka -> consumer -> "
            "Temporal workflow -> worker activity -> PostgreSQL + Valkey"
        )
    else:
        print(f"self-check FAILED: {report.problem}")
    return report.ok


async def _bootstrap_default_tenant(settings: Settings) -> str:
    """The DEFAULT tenant (Tazama's tenant without authentication) with the shipped
    configuration, unless it already has an active network map."""
    from activities.monitoring.config_store import ConfigStore, import_bundle
    from activities.monitoring.defaults import default_bundle
    from api.accounts import create_tenant
    from saku.db import create_pool

    async with create_pool(settings.resolved_database_url(), max_size=2) as pool:
        async with pool.connection() as conn:
            await create_tenant(conn, DEFAULT_TENANT, "Default tenant")
        store = ConfigStore(pool)
        if await store.active_cfg(DEFAULT_TENANT) is not None:
            return "DEFAULT tenant: keeps its active network map"
        await import_bundle(store, DEFAULT_TENANT, default_bundle())
        return "DEFAULT tenant: default monitoring configuration imported and activated"


async def _ensure_schedules(settings: Settings) -> str:
    from saku.temporal.client import connect
    from saku.temporal.schedules import NIGHTLY_REPORTING, ensure_schedules

    created = await ensure_schedules(await connect(settings), settings.task_queue)
    state = "created" if created else "already there"
    return f"schedule {NIGHTLY_REPORTING} (nightly reporting at 02:00 Asia/Jakarta): {state}"


async def _monitoring_check(settings: Settings) -> bool:
    """One payment (its 4 ISO 20022 messages) through Kafka, to a committed decision."""
    import json

    from aiokafka import AIOKafkaProducer

    from api.intake.samples import end_to_end_id, financial_transaction
    from saku import topics
    from saku.db import create_pool

    payment = financial_transaction()
    msg_id = payment.pacs002["FIToFIPmtSts"]["GrpHdr"]["MsgId"]
    producer = AIOKafkaProducer(bootstrap_servers=settings.resolved_kafka_bootstrap())
    await producer.start()
    started = time.perf_counter()
    try:
        for message in payment:
            await producer.send_and_wait(
                settings.topic(topics.TRANSACTIONS.name),
                json.dumps(message).encode(),
                key=end_to_end_id(message).encode(),
            )
    finally:
        await producer.stop()
    async with create_pool(settings.resolved_database_url(), max_size=1) as pool:
        for _ in range(300):
            async with pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT status, result FROM evaluations WHERE tenant_id = %s AND msg_id = %s",
                    (DEFAULT_TENANT, msg_id),
                )
                row = await cur.fetchone()
            if row is not None:
                scores = ", ".join(
                    f"{t['id']} {t['score']:g}" for t in row["result"]["adjudication"]["typologies"]
                )
                print(
                    f"monitoring check passed in {(time.perf_counter() - started) * 1000:.0f} ms:"
                    f" payment -> {row['status']} ({scores})"
                )
                return True
            await asyncio.sleep(0.1)
    print("monitoring check FAILED: no decision within 30 s (see var/log/worker.log)")
    return False


def up(settings: Settings, args: argparse.Namespace) -> int:
    return run_saku(settings, then=None, stop_after=args.check)


def run_saku(settings: Settings, *, then: Callable[[], bool] | None, stop_after: bool) -> int:
    """The stack, worker, API and consumer, self-checked; then `then` (a demo, say); then
    until Ctrl-C unless `stop_after`. Everything started here is stopped on the way out."""
    from saku.cli.stack import print_status, print_up_report
    from saku.stack import manager

    print("starting the embedded stack")
    report = asyncio.run(manager.up(settings))
    print_up_report(report)
    children = _children(settings)
    for child in children:
        if child.running_pid() is not None:
            raise StackError(f"`saku {child.name}` is already running (pid {child.running_pid()})")
        child.start([sys.executable, "-m", "saku", child.name])
    try:
        _wait_api_ready(settings)
        print(asyncio.run(_bootstrap_default_tenant(settings)))
        print(asyncio.run(_ensure_schedules(settings)))
        ok = asyncio.run(_selfcheck(settings)) and asyncio.run(_monitoring_check(settings))
        asyncio.run(print_status(settings))
        print(f"API:         http://{settings.api_host}:{settings.api_port}/docs")
        if not settings.temporal_address:
            print(
                f"Temporal UI: http://127.0.0.1:{settings.temporal_ui_port}/namespaces/"
                f"{settings.temporal_namespace}/workflows"
            )
        if then is not None:
            ok = then() and ok
        if stop_after:
            return 0 if ok else 1
        print("Saku is up. Press Ctrl-C to stop everything.")
        _wait_for_signal(children)
        return 0 if ok else 1
    finally:
        print("stopping worker, API and consumer")
        for child in children:
            child.stop(signal.SIGTERM, timeout=20)
        # components that were already running before `saku up` stay up
        stopped = manager.down(settings, only=report.started)
        if stopped:
            print("stopped: " + ", ".join(stopped))


def _wait_for_signal(children: list[ManagedProcess]) -> None:
    received: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: received.append(signum))
    while not received:
        dead = [c.name for c in children if c.running_pid() is None]
        if dead:
            print(f"stopping: `saku {dead[0]}` exited (see var/log/{dead[0]}.log)")
            return
        time.sleep(0.5)
