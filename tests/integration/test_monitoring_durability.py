"""Durability: a worker killed in the middle of a stream loses and doubles nothing; the
shipped default configuration evaluates real traffic without rule errors."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from activities.accounts import create_tenant
from activities.monitoring.config_store import ConfigStore, import_bundle
from activities.monitoring.defaults import default_bundle
from activities.monitoring.stored_evaluations import complete
from core.db import Pool
from core.settings import Settings
from saku.iso20022_samples import financial_transaction
from saku.stack.components import ensure_topics
from saku.wiring import run_consumer
from tests.integration.test_monitoring import produce
from tests.stackutil import eventually

pytestmark = pytest.mark.integration
DEFAULT_BUNDLE = Path(__file__).resolve().parents[2] / "infra" / "config" / "default.json"


async def new_tenant(pool: Pool, bundle: dict[str, object]) -> str:
    tenant = f"bank-{uuid.uuid4().hex[:8]}"
    async with pool.connection() as conn:
        await create_tenant(conn, tenant, "Test bank")
    await import_bundle(ConfigStore(pool), tenant, bundle)
    return tenant


async def evaluated(pool: Pool, tenant: str) -> list[tuple[str, int]]:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT msg_id, count(*) AS n FROM evaluations WHERE tenant_id = %s GROUP BY msg_id",
            (tenant,),
        )
        return [(r["msg_id"], r["n"]) for r in await cur.fetchall()]


async def _count_at_least(pool: Pool, tenant: str, count: int) -> bool:
    return len(await evaluated(pool, tenant)) >= count


def start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "saku", "worker"],
        env=settings.as_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_the_shipped_default_configuration_is_the_generated_one() -> None:
    assert json.loads(DEFAULT_BUNDLE.read_text()) == default_bundle()


async def test_a_worker_killed_mid_stream_loses_and_doubles_nothing(
    stack: Settings, pool: Pool, task_queue: str
) -> None:
    settings = stack.model_copy(
        update={"task_queue": task_queue, "consumer_group": task_queue, "topic_prefix": task_queue}
    )
    await ensure_topics(settings.resolved_kafka_bootstrap(), settings.topic_prefix)
    tenant = await new_tenant(pool, default_bundle())
    payments = [financial_transaction(amount=10_000 + i, tenant_id=tenant) for i in range(40)]
    expected = {p.pacs002["FIToFIPmtSts"]["GrpHdr"]["MsgId"] for p in payments}

    async def stream() -> None:  # two payments every 150 ms, for about three seconds
        for i in range(2, len(payments), 2):
            await produce(settings, *(m for p in payments[i : i + 2] for m in p))
            await asyncio.sleep(0.15)

    stop = asyncio.Event()
    consumer = asyncio.create_task(run_consumer(settings, stop))
    worker = start_worker(settings)
    await produce(settings, *(m for p in payments[:2] for m in p))
    producing = None
    try:
        # until the worker is up and evaluating
        assert await eventually(lambda: _count_at_least(pool, tenant, 1), 60)
        producing = asyncio.create_task(stream())
        await asyncio.sleep(0.6)
        os.kill(worker.pid, signal.SIGKILL)  # in the middle of the stream
        worker.wait()
        done_before_kill = len(await evaluated(pool, tenant))
        assert done_before_kill >= 3, "the worker never got going"
        await asyncio.sleep(1.0)  # the stream goes on while no worker runs
        worker = start_worker(settings)
        await producing
        await eventually(lambda: _count_at_least(pool, tenant, len(expected)), 120, 0.2)
    finally:
        if producing is not None:
            await producing
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        stop.set()
        await consumer

    rows = await evaluated(pool, tenant)
    assert {msg for msg, _ in rows} == expected  # every payment evaluated...
    assert all(n == 1 for _, n in rows)  # ...exactly once
    assert done_before_kill < len(expected), "the kill came too late to test anything"


async def test_default_rules_answer_real_traffic_without_errors(
    processes: Settings, pool: Pool
) -> None:
    tenant = await new_tenant(pool, default_bundle())
    # a debtor with some history, then a burst to new creditors
    payments = [financial_transaction(amount=25_000 * (i + 1), tenant_id=tenant) for i in range(6)]
    payments += [
        financial_transaction(creditor=f"shop_{i}", amount=75_000, tenant_id=tenant)
        for i in range(4)
    ]
    await produce(processes, *(m for p in payments for m in p))
    await eventually(lambda: _count_at_least(pool, tenant, len(payments)), 60, 0.2)
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT * FROM evaluations WHERE tenant_id = %s", (tenant,))
        rows = await cur.fetchall()
    await complete(ConfigStore(pool), tenant, rows)  # read back whole, as the API does
    results = [r["result"] for r in rows]
    assert len(results) == len(payments)
    errors = [
        (r["rule_results"], rr["reason"])
        for r in results
        for rr in r["rule_results"]
        if rr["sub_rule_ref"] == ".err"
    ]
    assert errors == []
    ran = {rr["id"] for rr in results[0]["rule_results"]}
    assert len(ran) == 35  # the complete-coverage map runs the whole catalogue once
    # a status report carries its payment's description and location to the rules that
    # compare them with the debtor's earlier payments (they did not, and always answered
    # "insufficient data")
    measured = {
        rr["id"] for r in results for rr in r["rule_results"] if rr["sub_rule_ref"] != ".x01"
    }
    assert {"007@1.0.0", "074@1.0.0", "075@1.0.0"} <= measured
