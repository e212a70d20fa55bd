"""The connections the API holds for its lifetime, opened lazily so that the API starts (and
reports not-ready on /health/ready) even while a dependency is down."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import redis.asyncio as redis
from aiokafka import AIOKafkaProducer
from temporalio.client import Client
from temporalio.worker import Worker

from activities.biometrics.keyring import KeyRing
from activities.monitoring.alerts import kafka_alert_publisher
from activities.monitoring.history import HistoryStore
from activities.registry import build_activities
from api.codec import WorkflowTenants
from api.intake.service import Intake
from api.sign_in_guard import PasswordChecks, SignInThrottle
from api.starters.wallet import InFlight
from core import topics
from core.db import Pool, create_pool
from core.settings import Settings
from core.temporal.client import connect, payload_keys_for
from core.temporal.codec import EncryptionCodec
from core.temporal.worker import create_worker
from workflows.registry import ALL_WORKFLOWS

log = logging.getLogger(__name__)


class Resources:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool: Pool = create_pool(settings.resolved_database_url())
        self.valkey: redis.Redis = redis.from_url(settings.resolved_valkey_url())
        self._temporal: Client | None = None
        self._producer: AIOKafkaProducer | None = None
        self._intake: Intake | None = None
        self._worker: Worker | None = None
        self._worker_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.payments_in_flight = InFlight(settings.payments_in_flight)
        self.sign_in_throttle = SignInThrottle(
            self.valkey,
            per_user=settings.sign_in_failures_per_user,
            per_address=settings.sign_in_failures_per_address,
            window_s=settings.sign_in_window_s,
        )
        self.password_checks = PasswordChecks(
            settings.password_checks_at_once, settings.password_checks_queue
        )
        # the key-encryption keys for biometric templates: outside the database
        self.keyring = KeyRing.load(settings.resolved_kek_file())
        # the codec endpoint's: the keys sealing workflow payloads, and whose workflow is whose
        self.payload_codec = EncryptionCodec(payload_keys_for(settings))
        self.workflow_tenants = WorkflowTenants()

    async def open(self) -> None:
        # wait=False: the pool keeps trying in the background if PostgreSQL is not up yet
        await self.pool.open(wait=False)
        if self.settings.api_worker:
            self._worker_task = asyncio.create_task(self._run_worker())

    async def _run_worker(self) -> None:
        """A worker in the API process: Temporal hands the first task of a workflow the API
        starts straight back to it (eager start), saving a round trip through the server."""
        while True:
            try:
                client = await self.temporal()
                producer = await self.producer()
                break
            except Exception as err:  # a dependency is down: the API serves on, and retries
                log.warning("API worker waits for Temporal and Kafka", extra={"reason": str(err)})
                await asyncio.sleep(2)
        topic = self.settings.topic(topics.ALERTS.name)
        activities = build_activities(
            self.pool,
            self.valkey,
            kafka_alert_publisher(producer, topic),
            self.settings,
            kafka_alert_publisher(producer, self.settings.topic(topics.PAYOUTS.name)),
        )
        self._worker = create_worker(client, self.settings.task_queue, ALL_WORKFLOWS, activities)
        await self._worker.run()

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
        if self._worker is not None:
            await self._worker.shutdown()
        if self._worker_task is not None:
            self._worker_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker_task
        if self._producer is not None:
            await self._producer.stop()
        await self.valkey.aclose()
        await self.pool.close()

    def __repr__(self) -> str:  # never print URLs: they carry passwords
        return f"<Resources namespace={self.settings.temporal_namespace!r}>"

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("Resources hold live connections and cannot be serialised")
