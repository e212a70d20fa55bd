"""A round trip through each of the four real services the stack started."""

from __future__ import annotations

import uuid

import pytest
import redis.asyncio as redis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition
from psycopg_pool import AsyncConnectionPool
from temporalio.client import Client

from activities.registry import build_activities
from core import topics
from core.selfcheck import SelfCheckRequest, selfcheck_valkey_key
from core.settings import Settings
from core.temporal.worker import create_worker
from workflows.registry import ALL_WORKFLOWS
from workflows.selfcheck import SelfCheckWorkflow

pytestmark = pytest.mark.integration


async def no_alerts(tenant: str, key: bytes, value: bytes) -> None:
    raise AssertionError("the self-check raises no alerts")


async def test_postgres_round_trip(pool: AsyncConnectionPool) -> None:
    async with pool.connection() as conn:
        await conn.execute("CREATE TEMP TABLE probe (v text)")
        await conn.execute("INSERT INTO probe VALUES ('uang saku')")
        cur = await conn.execute("SELECT v, current_setting('server_version') AS ver FROM probe")
        row = await cur.fetchone()
    assert row is not None
    assert row["v"] == "uang saku"
    assert row["ver"].startswith("18.")


async def test_valkey_round_trip(valkey: redis.Redis) -> None:
    key = f"test:{uuid.uuid4().hex}"
    await valkey.set(key, "42", ex=60)
    assert await valkey.get(key) == b"42"
    assert "valkey_version" in await valkey.info("server")


async def test_kafka_round_trip(stack: Settings) -> None:
    topic = stack.topic(topics.SELFCHECK.name)
    marker = uuid.uuid4().hex.encode()
    producer = AIOKafkaProducer(bootstrap_servers=stack.resolved_kafka_bootstrap())
    await producer.start()
    try:
        sent = await producer.send_and_wait(topic, marker, key=b"k")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.resolved_kafka_bootstrap())
    await consumer.start()
    partition = TopicPartition(topic, sent.partition)
    try:
        consumer.assign([partition])
        consumer.seek(partition, sent.offset)
        batch = await consumer.getmany(partition, timeout_ms=5000)
    finally:
        await consumer.stop()
    assert [r.value for r in batch[partition]][:1] == [marker]


async def test_temporal_round_trip_through_worker_and_stores(
    temporal: Client,
    pool: AsyncConnectionPool,
    valkey: redis.Redis,
    task_queue: str,
    stack: Settings,
) -> None:
    check_id = uuid.uuid4().hex
    worker = create_worker(
        temporal,
        task_queue,
        ALL_WORKFLOWS,
        build_activities(pool, valkey, no_alerts, stack),
    )
    async with worker:
        result = await temporal.execute_workflow(
            SelfCheckWorkflow.run,
            SelfCheckRequest(check_id, "test"),
            id=f"test-selfcheck-{check_id}",
            task_queue=task_queue,
        )
    assert result.postgres_row and result.valkey_key
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT workflow_id FROM selfchecks WHERE check_id = %s", (check_id,)
        )
        row = await cur.fetchone()
    assert row == {"workflow_id": f"test-selfcheck-{check_id}"}
    assert await valkey.get(selfcheck_valkey_key(check_id)) == row["workflow_id"].encode()
