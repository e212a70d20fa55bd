"""`saku bench stream`: the monitoring engine under a stream of realistic payments.

One run, against the configured stack (the embedded one unless URLs are set):
1. a fresh tenant with the default configuration (the complete-coverage network map);
2. history seeded for a population of debtors and creditors (not measured);
3. baseline: consume-only throughput of the same messages on the same broker;
4. baseline: no-op workflow throughput on the same Temporal server;
5. the stream: every payment as its 4 messages (pain.001, pain.013, pacs.008, pacs.002),
   keyed by end-to-end id, through `saku consume` and `saku worker` processes (warmed up by
   one payment first), until every pacs.002 has a committed decision; latency is pacs.002
   produced -> decision committed.
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaConsumer
from confluent_kafka import KafkaError, Producer
from psycopg import sql
from temporalio.client import Client

from activities.accounts import create_tenant
from activities.monitoring.config_store import ConfigStore, import_bundle
from activities.monitoring.defaults import default_bundle
from activities.monitoring.history import HistoryStore, Incoming
from api.intake.messages import parse_message
from core.db import Pool, create_pool
from core.monitoring.results import ALERT
from core.settings import Settings
from core.temporal.client import connect
from core.temporal.worker import create_worker
from saku.bench.cpu import cpu_by_role, cpu_seconds, ours
from saku.bench.report import machine, percentile, start_saku, table
from saku.iso20022_samples import FinancialTransaction, end_to_end_id, financial_transaction
from saku.stack.components import delete_topics, ensure_topics
from workflows.noop import NoOpWorkflow

# The load generator batches as a busy core-banking producer would: it shares the machine
# with the stack it measures, and small batches cost it and the broker CPU per message (the
# embedded broker lists every stored batch on each fetch). The linger counts in the measured
# latency.
PRODUCER_BATCH_BYTES = 256 * 1024
PRODUCER_LINGER_MS = 20


@dataclass(frozen=True)
class StreamOptions:
    payments: int = 5000
    rate: float = 0.0  # payments per second; 0 = as fast as the producer can
    accounts: int = 1000
    history: int = 5000
    baseline_workflows: int = 500
    timeout_s: float = 600.0
    seed: int = 7


# What people write in a transfer's remittance line: some texts recur, most carry a number.
_DESCRIPTIONS = (
    "pocket money",
    "school fees",
    "rent",
    "groceries",
    "electricity bill",
    "family support",
    "loan repayment",
    "invoice",
    "order",
    "arisan",
    "zakat",
    "tuition",
    "phone credit",
)
# Each debtor pays from around home (within about 200 m); one payment in a hundred is made
# somewhere else in the city, some tens of kilometres away.
_AWAY_FROM_HOME = 0.01


def _home(debtor: int) -> tuple[float, float]:
    """A debtor's home, the same in every run: somewhere in greater Jakarta."""
    place = random.Random(debtor)
    return -6.2 + place.uniform(-0.3, 0.3), 106.8 + place.uniform(-0.3, 0.3)


def realistic_payment(
    rng: random.Random, tenant: str, accounts: int, at: datetime
) -> FinancialTransaction:
    """One payment between random accounts, shaped like real traffic: amounts spread over
    orders of magnitude, remittance texts that vary, each debtor paying from near home."""
    debtor = rng.randrange(accounts)
    lat, lon = _home(debtor)
    spread = 0.2 if rng.random() < _AWAY_FROM_HOME else 0.002
    description = rng.choice(_DESCRIPTIONS)
    if rng.random() < 0.6:
        description += f" {rng.randrange(1, 100_000)}"
    return financial_transaction(
        debtor=f"debtor_{debtor}",
        creditor=f"creditor_{rng.randrange(accounts)}",
        amount=round(rng.lognormvariate(11, 1.2), 2),  # median ~ IDR 60,000
        created_at=at,
        tenant_id=tenant,
        description=description,
        lat=lat + rng.uniform(-spread, spread),
        lon=lon + rng.uniform(-spread, spread),
    )


async def _seed_history(pool: Pool, valkey_url: str, tenant: str, opts: StreamOptions) -> None:
    import redis.asyncio as redis

    rng = random.Random(opts.seed)
    valkey = redis.from_url(valkey_url)
    store = HistoryStore(pool, valkey)
    now = datetime.now(UTC)
    try:
        for start in range(0, opts.history, 500):
            batch = []
            for _ in range(min(500, opts.history - start)):
                at = now - timedelta(seconds=rng.uniform(3600, 60 * 86400))
                for message in realistic_payment(rng, tenant, opts.accounts, at):
                    tx = parse_message(message, tenant)
                    batch.append(Incoming(tx, json.dumps(message), "kafka"))
            await store.accept(batch)
    finally:
        await valkey.aclose()


async def _consume_only(settings: Settings, messages: list[bytes]) -> float:
    """Messages per second a bare consumer group reads (and commits) on this broker."""
    topic = settings.topic("bench-baseline")
    producer = LoadProducer(settings)
    for value in messages:
        producer.send(topic, None, value)
    await producer.flush()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.resolved_kafka_bootstrap(),
        group_id=f"{topic}-{uuid.uuid4().hex[:6]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        seen, started = 0, None
        while seen < len(messages):
            batch = await consumer.getmany(timeout_ms=1000, max_records=500)
            if started is None and batch:
                started = time.perf_counter()
            seen += sum(len(records) for records in batch.values())
            await consumer.commit()
        return seen / (time.perf_counter() - (started or time.perf_counter()) or 1e-9)
    finally:
        await consumer.stop()


async def _noop_workflows(client: Client, count: int) -> float:
    """No-op workflows per second, 50 in flight at a time, on a worker in this process."""
    queue = f"bench-noop-{uuid.uuid4().hex[:6]}"
    async with create_worker(client, queue, [NoOpWorkflow], []):
        limit = asyncio.Semaphore(50)

        async def one(i: int) -> None:
            async with limit:
                await client.execute_workflow(
                    NoOpWorkflow.run, "x", id=f"{queue}-{i}", task_queue=queue
                )

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(count)))
        return count / (time.perf_counter() - started)


@dataclass(frozen=True)
class EncodedPayment:
    """A payment's Kafka records (key, value), its pacs.002 last, encoded before the clock
    starts: the producer shares the machine with the stack, so it should spend little of it."""

    status_report_id: str
    records: list[tuple[bytes, bytes]]


def encode_payments(payments: Iterable[FinancialTransaction]) -> list[EncodedPayment]:
    return [
        EncodedPayment(
            str(p.pacs002["FIToFIPmtSts"]["GrpHdr"]["MsgId"]),
            [(end_to_end_id(p.pacs008).encode(), json.dumps(message).encode()) for message in p],
        )
        for p in payments
    ]


class LoadProducer:
    """The load generator's producer: librdkafka's (confluent-kafka), as a core-banking
    system's would be; it encodes and batches in C, so it takes little of the CPU it shares
    with the stack it measures. It partitions keys as Kafka's Java client does."""

    def __init__(self, settings: Settings, *, quiet: bool = False) -> None:
        self._producer = Producer(
            {
                "bootstrap.servers": settings.resolved_kafka_bootstrap(),
                "linger.ms": PRODUCER_LINGER_MS,
                "batch.size": PRODUCER_BATCH_BYTES,
                "acks": 1,
                "partitioner": "murmur2_random",
                # quiet: a broker that is down on purpose (the fault scorecard) is no news
                "log_level": 0 if quiet else 6,
            }
        )
        self._failures: list[str] = []

    def _delivered(self, error: KafkaError | None, _message: object) -> None:
        if error is not None:
            self._failures.append(str(error))

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes,
        on_delivery: Callable[[bool], None] | None = None,
    ) -> None:
        """Queue one message; `on_delivery(acknowledged)` is called from a later poll or
        flush once the broker acknowledged it (True) or it failed (False)."""

        def delivered(error: KafkaError | None, message: object) -> None:
            self._delivered(error, message)
            if on_delivery is not None:
                on_delivery(error is None)

        while True:
            try:
                self._producer.produce(topic, value, key, on_delivery=delivered)
                return
            except BufferError:  # the local queue is full: let deliveries drain it
                self._producer.poll(0.01)

    def serve_delivery_reports(self) -> None:
        self._producer.poll(0)

    async def wait_delivered(self, timeout: float) -> int:
        """Wait up to `timeout` seconds for queued messages; returns how many are left."""
        return int(await asyncio.to_thread(self._producer.flush, timeout))

    async def flush(self) -> None:
        """Wait for every message to be delivered; any that was not fails the run."""
        undelivered = await self.wait_delivered(60)
        if undelivered or self._failures:
            raise RuntimeError(
                f"the load generator could not deliver {undelivered + len(self._failures)} "
                "messages: " + "; ".join(self._failures[:3])
            )


async def _produce(
    settings: Settings, payments: list[EncodedPayment], rate: float
) -> dict[str, float]:
    """Send every payment's messages; returns pacs.002 message id -> wall-clock send time."""
    topic = settings.topic("transactions")
    producer = LoadProducer(settings)
    sent: dict[str, float] = {}
    chunk = max(1, int(rate / 100)) if rate else 50
    started = time.perf_counter()
    for index in range(0, len(payments), chunk):
        for payment in payments[index : index + chunk]:
            *history, (key, value) = payment.records
            for history_key, history_value in history:
                producer.send(topic, history_key, history_value)
            sent[payment.status_report_id] = time.time()
            producer.send(topic, key, value)
        producer.serve_delivery_reports()
        if rate:  # keep to the schedule: chunk k is due at k * chunk / rate seconds
            due = started + (index + chunk) / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
    await producer.flush()
    return sent


async def _decided(pool: Pool, tenant: str) -> int:
    """How many evaluations are committed (cheap enough to ask twice a second)."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT count(*) AS n FROM evaluations WHERE tenant_id = %s", (tenant,)
        )
        row = await cur.fetchone()
        return int(row["n"]) if row else 0


async def _decisions(pool: Pool, tenant: str) -> dict[str, tuple[float, float, str]]:
    """Message id -> (stored in history at, decision committed at, ALRT or NALT)."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT e.msg_id, extract(epoch FROM r.received_at)::float8 AS stored, "
            "       extract(epoch FROM e.evaluated_at)::float8 AS at, e.status "
            "FROM evaluations e JOIN raw_messages r USING (tenant_id, msg_id) "
            "WHERE e.tenant_id = %s",
            (tenant,),
        )
        return {r["msg_id"]: (r["stored"], r["at"], r["status"]) for r in await cur.fetchall()}


@dataclass
class StreamRun:
    """What one stream run measured."""

    sent: dict[str, float]  # pacs.002 message id -> produced at (epoch s)
    stored: dict[str, float]  # pacs.002 message id -> stored in history at (epoch s)
    done: dict[str, float]  # pacs.002 message id -> decision committed at (epoch s)
    alerts: int  # decisions that alerted (each opens a case workflow)
    began: float
    produced: float
    cpu: dict[str, float]  # CPU seconds by role from the first message to the last decision


async def _stream(
    settings: Settings, pool: Pool, tenant: str, payments: list[EncodedPayment], opts: StreamOptions
) -> StreamRun:
    """Start a worker and a consumer, warm them up, stream the payments, await decisions."""
    processes = [start_saku(settings, "worker"), start_saku(settings, "consume")]
    try:
        # warm up: measure the steady state, not the processes' start and group join
        warm_up = realistic_payment(
            random.Random(opts.seed + 2), tenant, opts.accounts, datetime.now(UTC)
        )
        await _produce(settings, encode_payments([warm_up]), 0)
        for _ in range(600):
            if await _decided(pool, tenant):
                break
            await asyncio.sleep(0.1)
        else:
            raise RuntimeError("the worker and consumer did not evaluate a warm-up payment")
        # The encoded payments live until the end: frozen, the load generator's collections
        # do not walk them over and over while it shares the machine with the stack.
        gc.collect()
        gc.freeze()
        measured = ours(settings)
        cpu_before = cpu_seconds(measured)
        began = time.time()
        sent = await _produce(settings, payments, opts.rate)
        produced = time.time()
        # wait for every decision, counting only (the decisions are read once, at the end)
        expected = len(sent) + 1
        decided, last_progress, deadline = 1, time.time(), began + opts.timeout_s
        while decided < expected and time.time() < deadline:
            await asyncio.sleep(0.5)
            now_decided = await _decided(pool, tenant)
            if now_decided > decided:
                last_progress = time.time()
            decided = now_decided
            if time.time() - last_progress > 60:
                break  # stalled
        cpu = cpu_by_role(cpu_before, cpu_seconds(measured))
        decisions = {m: d for m, d in (await _decisions(pool, tenant)).items() if m in sent}
        stored = {m: at for m, (at, _, _) in decisions.items()}
        done = {m: at for m, (_, at, _) in decisions.items()}
        alerts = sum(status == ALERT for _, _, status in decisions.values())
        return StreamRun(sent, stored, done, alerts, began, produced, cpu)
    finally:
        gc.unfreeze()
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)


async def _forget(pool: Pool, client: Client, tenant: str, task_queue: str) -> None:
    """Remove what the run left: its tenant's data, and its alert cases' workflows (no worker
    will ever serve their task queue again). Benchmarks should not pile up in the database
    and slow the next run."""
    async for execution in client.list_workflows(
        f"TaskQueue = '{task_queue}' AND ExecutionStatus = 'Running'"
    ):
        await client.get_workflow_handle(execution.id).terminate("benchmark finished")
    async with pool.connection() as conn, conn.transaction():
        for table in _TENANT_TABLES:
            await conn.execute(
                sql.SQL("DELETE FROM {} WHERE tenant_id = %s").format(sql.Identifier(table)),
                (tenant,),
            )
        await conn.execute("DELETE FROM tenants WHERE id = %s", (tenant,))
    # Clear the deleted rows now: left to autovacuum, they would be vacuumed during the next
    # run, and billed to it
    async with pool.connection() as conn:
        for table in _TENANT_TABLES:
            await conn.execute(sql.SQL("VACUUM {}").format(sql.Identifier(table)))


# what a benchmark tenant writes (its audit trail stays: the audit log is append-only)
_TENANT_TABLES = (
    "cases",
    "evaluations",
    "transaction_edges",
    "account_holders",
    "accounts",
    "entities",
    "raw_messages",
    "event_flow_conditions",
    "network_maps",
    "typology_configs",
    "rule_configs",
)


async def run_stream_bench(settings: Settings, opts: StreamOptions) -> str:
    run = uuid.uuid4().hex[:8]
    tenant = f"bench-{run}"
    settings = settings.model_copy(
        update={
            "topic_prefix": f"bench{run}",
            "task_queue": f"bench-{run}",
            "consumer_group": f"bench-{run}",
        }
    )
    await ensure_topics(settings.resolved_kafka_bootstrap(), settings.topic_prefix)
    rng = random.Random(opts.seed + 1)
    client = await connect(settings)
    async with create_pool(settings.resolved_database_url(), max_size=4) as pool:
        async with pool.connection() as conn:
            await create_tenant(conn, tenant, "Benchmark bank")
        try:
            await import_bundle(ConfigStore(pool), tenant, default_bundle())
            print(f"seeding {opts.history} payments of history for {opts.accounts} accounts…")
            await _seed_history(pool, settings.resolved_valkey_url(), tenant, opts)
            # each payment's messages are dropped once encoded: only the bytes are sent
            encoded = encode_payments(
                realistic_payment(rng, tenant, opts.accounts, datetime.now(UTC))
                for _ in range(opts.payments)
            )
            print("baselines: consume-only and no-op workflows…")
            consume_rate = await _consume_only(
                settings, [value for p in encoded for _, value in p.records]
            )
            noop_rate = await _noop_workflows(client, opts.baseline_workflows)
            print(f"streaming {opts.payments} payments ({4 * opts.payments} messages)…")
            result = await _stream(settings, pool, tenant, encoded, opts)
        finally:
            await _forget(pool, client, tenant, settings.task_queue)
            await delete_topics(settings.resolved_kafka_bootstrap(), settings.topic_prefix)
    return _report(settings, opts, result, consume_rate, noop_rate)


def _report(
    settings: Settings, opts: StreamOptions, run: StreamRun, consume_rate: float, noop_rate: float
) -> str:
    sent, done = run.sent, run.done
    latencies = [(done[m] - sent[m]) * 1000 for m in sent if m in done]
    # history's timestamp is its insert's transaction start: the consumer has polled,
    # lingered and parsed; what follows is Temporal and the worker
    intake = [(run.stored[m] - sent[m]) * 1000 for m in sent if m in done]
    evaluation = [(done[m] - run.stored[m]) * 1000 for m in sent if m in done]
    finished = max(done.values(), default=run.began)
    ftps = len(done) / max(1e-9, finished - run.began)
    per_tx = {role: seconds * 1000 / max(1, len(done)) for role, seconds in run.cpu.items()}
    cpu = ", ".join(
        f"{role} {ms:.2f}"
        for role, ms in sorted(per_tx.items(), key=lambda kv: -kv[1])
        if ms >= 0.01
    )
    rows = [
        ("machine", machine()),
        ("rules / typologies", "35 catalogue rules in 4 typologies (complete coverage map)"),
        (
            "payments (4 messages each)",
            f"{opts.payments}, history {opts.history}, "
            f"{opts.accounts} debtor and creditor accounts",
        ),
        ("offered rate", f"{opts.rate:g} payments/s" if opts.rate else "as fast as possible"),
        ("produce time", f"{run.produced - run.began:.1f} s"),
        (
            "decisions committed",
            f"{len(done)} of {len(sent)}, {run.alerts} alerts "
            f"({run.alerts / max(1, len(done)):.1%}), each opening a case workflow",
        ),
        (
            "sustained throughput",
            f"{ftps:,.0f} financial transactions/s ({4 * ftps:,.0f} messages/s)",
        ),
        ("latency produced -> committed", _percentiles(latencies, "")),
        ("  produced -> stored", _percentiles(intake, "(Kafka, consumer: poll, linger, parse)")),
        ("  stored -> committed", _percentiles(evaluation, "(Temporal, worker)")),
        ("CPU per transaction", f"{sum(per_tx.values()):.2f} ms in all: {cpu} ms"),
        (
            "baseline: consume only",
            f"{consume_rate:,.0f} messages/s (stream = {4 * ftps / consume_rate:.0%} of it)",
        ),
        (
            "baseline: no-op workflows",
            f"{noop_rate:,.0f} workflows/s "
            f"(stream = {ftps / noop_rate:.1f}x that in transactions/s)",
        ),
        (
            "settings",
            f"micro-batch from {settings.micro_batch_from} messages a poll or "
            f"{settings.micro_batch_rate:g} messages/s "
            f"(linger {settings.micro_batch_linger_ms} ms), "
            f"max {settings.consumer_max_batch} a poll, 1 worker + 1 consumer process; "
            f"produced by librdkafka in batches up to {PRODUCER_BATCH_BYTES // 1024} KiB "
            f"(linger {PRODUCER_LINGER_MS} ms); the run's data is removed afterwards",
        ),
    ]
    return table("saku bench stream", rows)


def _percentiles(latencies_ms: list[float], what: str) -> str:
    p50, p95, p99, top = (percentile(latencies_ms, q) for q in (0.5, 0.95, 0.99, 1.0))
    return f"p50 {p50:.0f}, p95 {p95:.0f}, p99 {p99:.0f}, max {top:.0f} ms {what}".rstrip()
