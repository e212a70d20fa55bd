"""Nothing lost across a restore: the consumer's offsets are kept in PostgreSQL with the
history it stored, so after a point-in-time restore it reads again, from the bank's Kafka,
what came after the restore point.

Payments are streamed, a base backup is taken, more are streamed; PostgreSQL is restored to
the point between the two streams and Saku (worker and consumer) is brought up on the
restored copy. Every message of both streams is then stored and evaluated exactly once, with
the decisions of the run that had no disaster (the live database)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import pytest

from activities.dr import basebackup
from activities.dr.restore import restore
from core import topics
from core.settings import Settings
from saku.iso20022_samples import financial_transaction
from saku.stack.components import ensure_topics
from saku.wiring import run_consumer, run_worker
from tests.integration.test_dr_backups import write_and_archive
from tests.integration.test_monitoring import (
    REPORTABLE,
    SMALL,
    client,
    evaluation,
    msg_id,
    post,
    produce,
    tenant,
)
from tests.stackutil import eventually

pytestmark = pytest.mark.integration

__all__ = ["client", "tenant"]  # the fixtures, from the monitoring tests


@asynccontextmanager
async def saku_running(settings: Settings) -> AsyncIterator[None]:
    """Worker and consumer in this process, on `settings` (its database, group, topics)."""
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(run_worker(settings, stop)),
        asyncio.create_task(run_consumer(settings, stop)),
    ]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)


def query(url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, args).fetchall()


def evaluations(url: str, tenant: str) -> dict[str, tuple[str, int]]:
    """msg id -> (status, how many evaluations of it)."""
    rows = query(
        url,
        "SELECT msg_id, min(status), count(*) FROM evaluations WHERE tenant_id = %s "
        "GROUP BY msg_id",
        tenant,
    )
    return {r[0]: (r[1], r[2]) for r in rows}


def stored(url: str, tenant: str) -> list[str]:
    rows = query(url, "SELECT msg_id FROM raw_messages WHERE tenant_id = %s", tenant)
    return sorted(r[0] for r in rows)


def offsets(url: str, settings: Settings) -> dict[int, int]:
    rows = query(
        url,
        "SELECT partition, next_offset FROM consumer_offsets "
        "WHERE consumer_group = %s AND topic = %s",
        settings.consumer_group,
        settings.topic(topics.TRANSACTIONS.name),
    )
    return {r[0]: r[1] for r in rows}


def payments(tenant: str, n: int) -> list[dict[str, Any]]:
    """n payments (every message of each), alternately small and reportable."""
    return [
        message
        for i in range(n)
        for message in financial_transaction(
            amount=REPORTABLE if i % 2 else SMALL, tenant_id=tenant
        )
    ]


def all_evaluated(url: str, tenant: str, count: int) -> Callable[[], Awaitable[bool]]:
    async def done() -> bool:
        return len(await asyncio.to_thread(evaluations, url, tenant)) >= count

    return done


async def test_after_a_restore_every_message_is_evaluated_exactly_once(
    stack: Settings, task_queue: str, tenant: str
) -> None:
    settings = stack.model_copy(
        update={
            "task_queue": task_queue,
            "consumer_group": f"group-{task_queue}",
            "topic_prefix": task_queue,
        }
    )
    await ensure_topics(settings.resolved_kafka_bootstrap(), settings.topic_prefix)
    live = settings.resolved_database_url()
    first, second = payments(tenant, 6), payments(tenant, 6)
    sent = sorted(msg_id(m) for m in first + second)

    async with saku_running(settings):
        await produce(settings, *first)
        triggers_first = len(first) // 4  # one evaluation per payment (its pacs.002)
        assert await eventually(all_evaluated(live, tenant, triggers_first), 60)
        backup = await asyncio.to_thread(basebackup.take, settings, "test")
        assert backup.verified
        await asyncio.sleep(0.5)
        between = datetime.now(UTC)
        await asyncio.sleep(0.5)
        await produce(settings, *second)
        assert await eventually(all_evaluated(live, tenant, 2 * triggers_first), 60)
    await asyncio.to_thread(write_and_archive, settings, f"offsets-{task_queue}")

    no_disaster = evaluations(live, tenant)
    assert stored(live, tenant) == sent
    assert all(count == 1 for _, count in no_disaster.values())

    restored = await asyncio.to_thread(restore, settings, to=between)
    try:
        url = restored.url
        # the restore point: the first stream's history and offsets, none of the second's
        kept = evaluations(url, tenant)
        assert len(kept) == triggers_first
        assert {m: no_disaster[m] for m in kept} == kept
        assert sum(offsets(url, settings).values()) == len(first)
        assert sum(offsets(live, settings).values()) == len(first) + len(second)

        on_restored = settings.model_copy(update={"database_url": url})
        async with saku_running(on_restored):
            assert await eventually(all_evaluated(url, tenant, 2 * triggers_first), 60)
            # and nothing more arrives
            await asyncio.sleep(2)
        after = evaluations(url, tenant)
        assert after == no_disaster  # each message once, with the same decision
        assert stored(url, tenant) == sent
        assert offsets(url, settings) == offsets(live, settings)
        print(
            f"restored to {between.isoformat()} in {restored.seconds:.1f} s: "
            f"{len(kept)} evaluations kept, {len(after) - len(kept)} read again from Kafka"
        )
    finally:
        await asyncio.to_thread(restored.instance.stop)


async def test_a_message_a_restore_lost_is_evaluated_again_though_temporal_has_its_run(
    client: httpx.AsyncClient, processes: Settings, tenant: str
) -> None:
    payment = financial_transaction(amount=REPORTABLE, tenant_id=tenant)
    for message in payment:
        assert (await post(client, message)).status_code < 300
    report = msg_id(payment.pacs002)
    first = await evaluation(client, tenant, report)
    # a restore to before the status report: its evaluation and the report itself are gone
    # from the database, while Temporal keeps the finished evaluation run
    query(
        processes.resolved_database_url(),
        "WITH e AS (DELETE FROM evaluations WHERE tenant_id = %s AND msg_id = %s) "
        "DELETE FROM raw_messages WHERE tenant_id = %s AND msg_id = %s RETURNING msg_id",
        tenant,
        report,
        tenant,
        report,
    )
    receipt = (await post(client, payment.pacs002)).json()
    assert receipt["outcome"] == "accepted"
    again = await evaluation(client, tenant, report)
    assert again["status"] == first["status"] and again["runId"] != first["runId"]
