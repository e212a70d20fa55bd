"""Health checks for the four components, by URL: used by `saku stack status` and /health/ready."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import psycopg
import redis.asyncio as redis
from aiokafka import AIOKafkaClient
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, GetSystemInfoRequest

from core.settings import Settings
from core.temporal.client import connect_client

CHECK_TIMEOUT_S = 3.0


@dataclass
class ComponentHealth:
    name: str
    address: str
    healthy: bool
    version: str = ""
    detail: str = ""
    latency_ms: float = 0.0


def redact_url(url: str) -> str:
    """postgresql://user:secret@host/db -> postgresql://user:***@host/db"""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url


async def _timed(name: str, address: str, probe: Callable[[], Awaitable[str]]) -> ComponentHealth:
    started = time.perf_counter()
    try:
        version = await asyncio.wait_for(probe(), CHECK_TIMEOUT_S)
        healthy, detail = True, ""
    except Exception as exc:  # any failure means unhealthy; the reason is shown
        version, healthy = "", False
        detail = f"{type(exc).__name__}: {exc}".strip().rstrip(":") or type(exc).__name__
    return ComponentHealth(
        name, address, healthy, version, detail, (time.perf_counter() - started) * 1000
    )


async def check_postgres(url: str) -> ComponentHealth:
    async def probe() -> str:
        async with await psycopg.AsyncConnection.connect(url, connect_timeout=2) as conn:
            cur = await conn.execute("SHOW server_version")
            row = await cur.fetchone()
            return f"PostgreSQL {row[0] if row else '?'}"

    return await _timed("postgres", redact_url(url), probe)


async def check_valkey(url: str) -> ComponentHealth:
    async def probe() -> str:
        client = redis.from_url(url, socket_connect_timeout=2)
        try:
            await client.ping()
            info = await client.info("server")
            if "valkey_version" in info:
                return f"Valkey {info['valkey_version']}"
            return f"Redis {info.get('redis_version', '?')}"
        finally:
            await client.aclose()

    return await _timed("valkey", redact_url(url), probe)


async def check_temporal(address: str, namespace: str) -> ComponentHealth:
    async def probe() -> str:
        client = await connect_client(address, namespace, with_interceptors=False)
        info = await client.workflow_service.get_system_info(
            GetSystemInfoRequest(), timeout=timedelta(seconds=2)
        )
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=namespace), timeout=timedelta(seconds=2)
        )
        return f"Temporal server {info.server_version}, namespace {namespace}"

    return await _timed("temporal", address, probe)


async def check_kafka(bootstrap: str) -> ComponentHealth:
    async def probe() -> str:
        # a plain TCP connect first: the Kafka client logs an error for every refused connect
        host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
        _, writer = await asyncio.open_connection(host, int(port))
        writer.close()
        await writer.wait_closed()
        client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
        try:
            await client.bootstrap()
            brokers = client.cluster.brokers()
            return f"Kafka protocol, {len(brokers)} broker(s)"
        finally:
            await client.close()

    return await _timed("kafka", bootstrap, probe)


async def check_all(settings: Settings) -> list[ComponentHealth]:
    return list(
        await asyncio.gather(
            check_postgres(settings.resolved_database_url()),
            check_valkey(settings.resolved_valkey_url()),
            check_temporal(settings.resolved_temporal_address(), settings.temporal_namespace),
            check_kafka(settings.resolved_kafka_bootstrap()),
        )
    )
