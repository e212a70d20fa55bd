"""The connections the API holds for its lifetime, opened lazily so that the API starts (and
reports not-ready on /health/ready) even while a dependency is down."""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as redis
from aiokafka import AIOKafkaProducer
from temporalio.client import Client

from activities.monitoring.history import HistoryStore
from api.intake.service import Intake
from saku.db import Pool, create_pool
from saku.settings import Settings
from saku.temporal.client import connect


class Resources:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool: Pool = create_pool(settings.resolved_database_url())
        self.valkey: redis.Redis = redis.from_url(settings.resolved_valkey_url())
        self._temporal: Client | None = None
        self._producer: AIOKafkaProducer | None = None
        self._intake: Intake | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        # wait=False: the pool keeps trying in the background if PostgreSQL is not up yet
        await self.pool.open(wait=False)

    async def temporal(self) -> Client:
        if self._temporal is None:
            async with self._lock:
                if self._temporal is None:
                    self._temporal = await connect(self.settings)
        return self._temporal

    async def intake(self) -> Intake:
        if self._intake is None:
            history = HistoryStore(self.pool, self.valkey)
            self._intake = Intake(
                self.pool, history, await self.temporal(), self.settings.task_queue
            )
        return self._intake

    async def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            async with self._lock:
                if self._producer is None:
                    producer = AIOKafkaProducer(
                        bootstrap_servers=self.settings.resolved_kafka_bootstrap(),
                        acks="all",
                    )
                    await producer.start()
                    self._producer = producer
        return self._producer

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
        await self.valkey.aclose()
        await self.pool.close()

    def __repr__(self) -> str:  # never print URLs: they carry passwords
        return f"<Resources namespace={self.settings.temporal_namespace!r}>"

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("Resources hold live connections and cannot be serialised")
