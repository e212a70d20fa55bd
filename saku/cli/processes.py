"""`saku worker`, `saku api`, `saku consume`, and `saku up` (everything together)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any

from core.settings import Settings
from saku.stack.process import ManagedProcess, StackError
from saku.stack.supervisor import Supervisor, Watched

if TYPE_CHECKING:
    from saku.stack.components import EmbeddedComponent
    from saku.stack.manager import UpReport

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
    from saku.gc_tuning import settle_garbage_collector
    from saku.wiring import run_worker, stop_on_signals

    async def main() -> None:
        await run_worker(settings, stop_on_signals())

    settle_garbage_collector()
    asyncio.run(main())
    return 0


def consume(settings: Settings, args: argparse.Namespace) -> int:
    from saku.gc_tuning import settle_garbage_collector
    from saku.wiring import run_consumer, stop_on_signals

    async def main() -> None:
        await run_consumer(settings, stop_on_signals())

    settle_garbage_collector()
    asyncio.run(main())
    return 0


def api(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from saku.gc_tuning import settle_garbage_collector

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

    from api.intake.selfcheck import run_selfcheck
    from core import topics
    from core.temporal.client import connect

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
    from activities.accounts import create_tenant
    from activities.monitoring.config_store import ConfigStore, import_bundle
    from activities.monitoring.defaults import default_bundle
    from core.db import create_pool

    async with create_pool(settings.resolved_database_url(), max_size=2) as pool:
        async with pool.connection() as conn:
            await create_tenant(conn, DEFAULT_TENANT, "Default tenant")
        store = ConfigStore(pool)
        if await store.active_cfg(DEFAULT_TENANT) is not None:
            return "DEFAULT tenant: keeps its active network map"
        await import_bundle(store, DEFAULT_TENANT, default_bundle())
        return "DEFAULT tenant: default monitoring configuration imported and activated"


async def _ensure_schedules(settings: Settings) -> str:
    from core.temporal.client import connect
    from core.temporal.schedules import (
        BACKUP,
        HISTORY_ARCHIVE,
        NIGHTLY_REPORTING,
        RESTORE_DRILL,
        ensure_configured_schedules,
    )

    every = settings.history_archive_every_min
    changed = await ensure_configured_schedules(await connect(settings), settings)
    lines = [
        (NIGHTLY_REPORTING, "nightly reporting at 02:00 Asia/Jakarta"),
        (BACKUP, f"base backup, cron {settings.backup_cron!r} Asia/Jakarta"),
        (RESTORE_DRILL, f"restore drill, cron {settings.drill_cron!r} Asia/Jakarta"),
        (HISTORY_ARCHIVE, f"workflow histories archived every {every} min"),
    ]
    return "\n".join(
        f"schedule {name} ({what}): {'created or updated' if name in changed else 'already there'}"
        for name, what in lines
    )


async def _monitoring_check(settings: Settings) -> bool:
    """One payment (its 4 ISO 20022 messages) through Kafka, to a committed decision."""
    import json

    from aiokafka import AIOKafkaProducer

    from core import topics
    from core.db import create_pool
    from saku.iso20022_samples import end_to_end_id, financial_transaction

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


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP (a closed terminal): Saku stops as on Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_stopped(signum: int, _frame: object) -> None:
    raise Stopped(signum)


def _start_child(child: ManagedProcess) -> None:
    # SIGKILL if `saku up` dies without stopping it: a graceful stop would need the servers
    # that are going down at the same moment, and Saku's processes are built to be killed
    # (their work is durable in Temporal and Kafka)
    child.start([sys.executable, "-m", "saku", child.name], die_with_parent=signal.SIGKILL)


def _restart_component(component: EmbeddedComponent) -> None:
    from saku.stack import manager

    asyncio.run(manager.restart(component))


def _supervisor(children: list[ManagedProcess], report: UpReport) -> Supervisor:
    watched = [Watched(child, partial(_start_child, child)) for child in children]
    for component in report.started_components:
        watched.append(
            Watched(
                component.process,
                partial(_restart_component, component),
                loses="the memory-only broker lost the messages it held"
                if component.memory_only
                else "",
            )
        )
    return Supervisor(watched)


def run_saku(settings: Settings, *, then: Callable[[], bool] | None, stop_after: bool) -> int:
    """The stack, worker, API and consumer, self-checked; then `then` (a demo, say); then
    until Ctrl-C unless `stop_after`. Meanwhile a process that dies is restarted. Everything
    started here is stopped on the way out, and dies with this process if it is killed."""
    from saku.cli.stack import print_status, print_up_report
    from saku.stack import manager

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_stopped)
    children = _children(settings)
    for child in children:
        if child.running_pid() is not None:
            raise StackError(f"`saku {child.name}` is already running (pid {child.running_pid()})")
    print("starting the embedded stack")
    report = asyncio.run(manager.up(settings, die_with_us=True))
    try:
        print_up_report(report)
        for child in children:
            _start_child(child)
        _wait_api_ready(settings)
        print(asyncio.run(_bootstrap_default_tenant(settings)))
        print(asyncio.run(_ensure_schedules(settings)))
        ok = asyncio.run(_selfcheck(settings)) and asyncio.run(_monitoring_check(settings))
        asyncio.run(print_status(settings))
        print(f"API:         http://{settings.api_host}:{settings.api_port}/docs")
        print(f"Console:     http://{settings.api_host}:{settings.api_port}/console")
        if not settings.temporal_address:
            print(
                f"Temporal UI: http://127.0.0.1:{settings.temporal_ui_port}/namespaces/"
                f"{settings.temporal_namespace}/workflows"
            )
        supervisor = _supervisor(children, report)
        if then is not None:
            # the demo runs beside the supervisor: a process that dies meanwhile comes back
            demo = ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo").submit(then)
            if supervisor.run(until=demo.done) is not None:
                return 1
            ok = demo.result() and ok
        if stop_after:
            return 0 if ok else 1
        print("Saku is up. Press Ctrl-C to stop everything.")
        supervisor.run()
        return 1
    except Stopped as stop:
        print(f"{signal.Signals(stop.signum).name} received")
        return 128 + stop.signum
    finally:
        print("stopping worker, API and consumer")
        for child in children:
            child.stop(signal.SIGTERM, timeout=20)
        # components that were already running before `saku up` stay up
        stopped = manager.down(settings, only=report.started)
        if stopped:
            print("stopped: " + ", ".join(stopped))
