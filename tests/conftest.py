"""One embedded stack for the whole session; each test gets its own task queue."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as redis
from psycopg_pool import AsyncConnectionPool
from temporalio.client import Client

from core.db import create_pool
from core.settings import Settings
from core.temporal.client import connect
from saku.stack import manager
from saku.stack.components import ensure_topics
from saku.wiring import run_consumer, run_worker
from tests.stackutil import private_settings, remove_var_dir

# The session's stack, while it is up: stopped by a SIGTERM too
_running: list[Settings] = []


def _stop_on_sigterm(signum: int, frame: object) -> None:
    # A run stopped with SIGTERM (`timeout`, a cancelled CI job) would leave the stack's
    # servers behind: they run in sessions of their own. Unwinding pytest instead is no
    # better: a test's in-process worker then retries the stopped server forever.
    for settings in _running:
        manager.down(settings)
        remove_var_dir(settings)
    os._exit(128 + signum)


def pytest_configure(config: pytest.Config) -> None:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)


@pytest.fixture(scope="session")
async def stack() -> AsyncIterator[Settings]:
    """A real PostgreSQL, Valkey, Temporal and Kafka on free ports, removed afterwards."""
    settings = private_settings()
    _running.append(settings)
    try:
        await manager.up(settings)
        yield settings
    finally:
        manager.down(settings)
        remove_var_dir(settings)
        _running.remove(settings)


@pytest.fixture(scope="session")
async def pool(stack: Settings) -> AsyncIterator[AsyncConnectionPool]:
    async with create_pool(stack.resolved_database_url(), max_size=10) as pool:
        yield pool


@pytest.fixture(scope="session")
async def valkey(stack: Settings) -> AsyncIterator[redis.Redis]:
    client = redis.from_url(stack.resolved_valkey_url())
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
async def temporal(stack: Settings) -> Client:
    return await connect(stack)


@pytest.fixture
def task_queue() -> Iterator[str]:
    yield f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def processes(stack: Settings, task_queue: str) -> AsyncIterator[Settings]:
    """Worker and consumer running in this process, with a task queue, consumer group and
    topics of their own (so other tests' messages never reach them)."""
    settings = stack.model_copy(
        update={
            "task_queue": task_queue,
            "consumer_group": f"group-{task_queue}",
            "topic_prefix": task_queue,
        }
    )
    await ensure_topics(settings.resolved_kafka_bootstrap(), settings.topic_prefix)
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(run_worker(settings, stop)),
        asyncio.create_task(run_consumer(settings, stop)),
    ]
    yield settings
    stop.set()
    await asyncio.gather(*tasks)


# The Temporal SDK can crash during interpreter teardown (PyGILState_Release, exit code 134:
# see the toolchain facts in docs/architecture.md) after every test has passed. Once pytest
# has reported, leave with its own exit status instead of risking that teardown.
_exit_status: int | None = None


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if _exit_status is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status)
