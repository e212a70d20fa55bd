"""The long-running processes, composed from their parts: worker and stream consumer.

This is the composition root: it alone wires settings to pools, clients, activities and
handlers, so the parts stay small and testable with real or fake dependencies.
"""

from __future__ import annotations

import asyncio
import logging
import signal

import httpx
import redis.asyncio as redis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from activities.dr.restores import Restores
from activities.monitoring.alerts import kafka_alert_publisher
from activities.monitoring.history import HistoryStore
from activities.registry import build_activities
from activities.wallet.notifications import WebhookSender
from activities.wallet.payouts import Payouts
from activities.wallet.topup_requests import TopUpRequestRelay
from activities.wallet.webhook_targets import WebhookPolicy
from api.intake.consumer import DeadLetter, LoadMeter, ResumeFromDatabase, StreamConsumer
from api.intake.payout_results import payout_results_handler
from api.intake.selfcheck import selfcheck_handler
from api.intake.service import Intake
from api.intake.sweep import evaluate_what_restores_lost
from api.intake.topups import topups_handler
from api.intake.transactions import KnownTenants, transactions_handler
from core import topics
from core.db import create_pool
from core.settings import Settings
from core.temporal.client import connect
from core.temporal.worker import create_worker
from workflows.registry import ALL_WORKFLOWS

log = logging.getLogger(__name__)


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT, for a graceful shutdown."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    webhook_secret = settings.resolved_webhook_secret()
    pool = create_pool(settings.resolved_database_url(), max_size=20)
    await pool.open(wait=True, timeout=30)
    valkey = redis.from_url(settings.resolved_valkey_url())
    producer = AIOKafkaProducer(bootstrap_servers=settings.resolved_kafka_bootstrap(), acks="all")
    await producer.start()
    webhooks = httpx.AsyncClient()
    sender = WebhookSender(
        pool,
        webhooks,
        secret=webhook_secret,
        max_attempts=settings.webhook_max_attempts,
        timeout_s=settings.webhook_timeout_s,
        policy=WebhookPolicy(settings.webhook_allowed_hosts),
    )
    sending = asyncio.create_task(sender.run(stop), name="webhook-sender")
    requests_topic = settings.topic(topics.TOPUP_REQUESTS.name)

    async def to_bank(key: bytes, value: bytes) -> None:
        await producer.send_and_wait(requests_topic, value, key=key)

    relaying = asyncio.create_task(
        TopUpRequestRelay(pool, to_bank).run(stop), name="topup-request-relay"
    )
    try:
        client = await connect(settings)
        publish = kafka_alert_publisher(producer, settings.topic(topics.ALERTS.name))
        worker = create_worker(
            client,
            settings.task_queue,
            ALL_WORKFLOWS,
            build_activities(
                pool,
                valkey,
                publish,
                settings,
                kafka_alert_publisher(producer, settings.topic(topics.PAYOUTS.name)),
            ),
        )
        # leaving the block shuts the worker down gracefully: running activities finish
        async with worker:
            log.info("worker running", extra={"task_queue": settings.task_queue})
            await stop.wait()
            log.info("worker stopping")
    finally:
        # `stop` lets the sender finish its batch; if the worker failed instead, end it now
        if not stop.is_set():
            sending.cancel()
            relaying.cancel()
        await asyncio.gather(sending, relaying, return_exceptions=True)
        await webhooks.aclose()
        await producer.stop()
        await valkey.aclose()
        await pool.close()


async def run_consumer(settings: Settings, stop: asyncio.Event) -> None:
    client = await connect(settings)
    bootstrap = settings.resolved_kafka_bootstrap()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    pool = create_pool(settings.resolved_database_url(), max_size=10)
    await pool.open(wait=True, timeout=30)
    valkey = redis.from_url(settings.resolved_valkey_url())
    intake = Intake(pool, HistoryStore(pool, valkey), client, settings.task_queue)
    load = LoadMeter(busy_from=settings.micro_batch_rate)
    tenants = KnownTenants(pool)
    handlers = {
        settings.topic(topics.SELFCHECK.name): selfcheck_handler(client, settings.task_queue),
        settings.topic(topics.TRANSACTIONS.name): transactions_handler(
            intake, tenants, settings.micro_batch_from, load
        ),
        settings.topic(topics.TOPUPS.name): topups_handler(
            client, settings.task_queue, pool, tenants
        ),
        settings.topic(topics.PAYOUT_RESULTS.name): payout_results_handler(Payouts(pool), tenants),
    }
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=settings.consumer_group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=settings.consumer_fetch_wait_ms,
    )
    # resume from the offsets recorded in PostgreSQL where they are behind Kafka's (a restore)
    kept = [
        settings.topic(name)
        for name in (topics.TRANSACTIONS.name, topics.TOPUPS.name, topics.PAYOUT_RESULTS.name)
    ]
    consumer.subscribe(
        list(handlers),
        listener=ResumeFromDatabase(consumer, pool, settings.consumer_group, kept),
    )
    await producer.start()
    await consumer.start()
    try:
        # on a restored database: what the restore kept unevaluated, before the stream
        await evaluate_what_restores_lost(intake, Restores(pool))
        stream = StreamConsumer(
            consumer,
            handlers,
            DeadLetter(settings.topic(topics.DEAD_LETTER.name), producer, pool),
            group=settings.consumer_group,
            max_record_bytes=settings.kafka_max_record_bytes,
            max_records=settings.consumer_max_batch,
            load=load,
            linger_ms=settings.micro_batch_linger_ms,
        )
        log.info("consumer running", extra={"topics": sorted(handlers)})
        await stream.run(stop)
    finally:
        await consumer.stop()
        await producer.stop()
        await valkey.aclose()
        await pool.close()
