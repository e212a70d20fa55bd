"""`saku worker`, `saku api`, `saku consume`, and `saku up` (everything together)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from typing import Any

from saku.settings import Settings
from saku.stack.process import ManagedProcess, StackError

# Heavy imports (FastAPI, the Temporal SDK, Kafka) happen inside each command, so that
# `saku --help` and the quick commands start fast.

PROCESSES = ("worker", "api", "consume")


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
    from saku.services import run_worker, stop_on_signals

    async def main() -> None:
        await run_worker(settings, stop_on_signals())

    asyncio.run(main())
    return 0


def consume(settings: Settings, args: argparse.Namespace) -> int:
    from saku.services import run_consumer, stop_on_signals

    async def main() -> None:
        await run_consumer(settings, stop_on_signals())

    asyncio.run(main())
    return 0


def api(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    config = uvicorn.Config(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,  # Saku's JSON logging stays in charge
        access_log=False,
    )
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


def up(settings: Settings, args: argparse.Namespace) -> int:
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
        ok = asyncio.run(_selfcheck(settings))
        asyncio.run(print_status(settings))
        print(f"API:         http://{settings.api_host}:{settings.api_port}/docs")
        if not settings.temporal_address:
            print(
                f"Temporal UI: http://127.0.0.1:{settings.temporal_ui_port}/namespaces/"
                f"{settings.temporal_namespace}/workflows"
            )
        if args.check:
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
