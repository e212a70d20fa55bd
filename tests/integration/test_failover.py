"""Failover of the embedded PostgreSQL while signed kiosk payments run through the real API
and the bank's stream runs through the Kafka consumer, as an operator runs it: `saku dr
replica up` starts a synchronous streaming standby, the primary is killed (its whole process
group, SIGKILL: a dead server, not a polite stop), `saku dr failover` promotes the standby,
and the API and consumer, never restarted, carry on against it through their multi-host
database URL. Kiosks send a payment again until it is acknowledged, as real ones do. No
acknowledged payment is lost, none is posted twice, the ledger verifies on the promoted
server, every streamed message is stored and evaluated exactly once, and the interruption
is printed. Then `saku dr replica rejoin` rewinds the dead primary into the new primary's
standby.

The PostgreSQL pair is the test's own (it is killed); Valkey, Temporal and Kafka are the
session's, with a task queue and topics of the test's own."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from activities.accounts import create_tenant
from activities.dr.replica import standbys
from activities.monitoring.config_store import ConfigStore, import_bundle
from activities.reporting.dbt import dbt_environment
from activities.wallet.ledger import Ledger
from api.app import create_app
from core.db import Pool, create_pool
from core.settings import Settings
from saku.stack import manager
from saku.stack.components import Postgres, PostgresReplica, ensure_topics
from saku.stack.process import free_port
from saku.wiring import run_consumer
from tests.integration.test_dr_offsets import evaluations, payments, stored
from tests.integration.test_monitoring import bundle, msg_id, produce
from tests.integration.wallet_world import World, build_world
from tests.stackutil import eventually

pytestmark = pytest.mark.integration

KIOSKS = 3  # tills paying at once
PRICE = Decimal(1000)
AFTER_PROMOTION = 10  # payments acknowledged by each till after the promotion, then stop
STREAM_AFTER_PROMOTION = 5  # the bank's batches streamed after the promotion, then stop


async def saku(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "saku", "dr", *args],
        env=settings.as_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _var_dir() -> Path:
    var_dir = Path(tempfile.mkdtemp(prefix="saku-failover-"))
    var_dir.chmod(0o755)  # PostgreSQL's system user enters it
    return var_dir


@pytest.fixture
async def pair(stack: Settings) -> AsyncIterator[Settings]:
    """The session's Valkey, Temporal and Kafka, and an embedded PostgreSQL of the test's
    own with a standby port, migrated; both servers stopped and removed afterwards."""
    var_dir = _var_dir()
    queue = f"failover-{uuid.uuid4().hex[:10]}"
    settings = stack.model_copy(
        update={
            "var_dir": var_dir,
            "backup_dir": None,
            "pg_port": free_port(),
            "pg_replica_port": free_port(),
            "database_url": None,
            "valkey_url": stack.resolved_valkey_url(),
            "temporal_address": stack.resolved_temporal_address(),
            "kafka_bootstrap_servers": stack.resolved_kafka_bootstrap(),
            "task_queue": queue,
            "consumer_group": f"group-{queue}",
            "topic_prefix": queue,
        }
    )
    await ensure_topics(settings.resolved_kafka_bootstrap(), settings.topic_prefix)
    try:
        await manager.up(settings)
        yield settings
    finally:
        for server in (Postgres(settings), PostgresReplica(settings)):
            server.stop()
        shutil.rmtree(var_dir, ignore_errors=True)


@dataclass
class Till:
    """One kiosk paying again and again; each payment is sent until it is acknowledged."""

    world: World
    student: str
    acknowledged: dict[str, str] = field(default_factory=dict)  # tx -> approved/declined
    # (monotonic time, HTTP status) of every answer
    answers: list[tuple[float, int]] = field(default_factory=list)

    async def run(self, promoted: asyncio.Event, stop: asyncio.Event) -> None:
        after = 0
        while not stop.is_set():
            tx = self.world.kiosk_tx()
            body = {"kiosk_tx_id": tx, "student_id": self.student, "amount": str(PRICE)}
            while True:
                try:
                    response = await self.world.pay_raw(body)
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
                self.answers.append((time.monotonic(), status))
                if status == 200:
                    receipt = response.json()
                    # a decline (a spending limit, say) is acknowledged too, and posts nothing
                    self.acknowledged[tx] = receipt["status"]
                    break
                # only "busy or still deciding, send it again" is an expected answer
                assert status == 503, (status, response.text if status else "")
                await asyncio.sleep(0.05)
            if promoted.is_set():
                after += 1
                if after >= AFTER_PROMOTION:
                    return


async def a_bank(pool: Pool) -> str:
    """A bank's tenant of the test's own, with the monitoring configuration."""
    tenant = f"bank-{uuid.uuid4().hex[:8]}"
    async with pool.connection() as conn:
        await create_tenant(conn, tenant, "Test bank")
    await import_bundle(ConfigStore(pool), tenant, bundle("1.0.0"))
    return tenant


@dataclass
class Bank:
    """The bank's core system streaming payments (every message of each) onto Kafka."""

    settings: Settings
    tenant: str
    sent: list[str] = field(default_factory=list)  # msg ids

    async def run(self, promoted: asyncio.Event, stop: asyncio.Event) -> None:
        after = 0
        while not stop.is_set():
            batch = payments(self.tenant, 2)
            await produce(self.settings, *batch)  # Kafka itself does not fail over
            self.sent += [msg_id(m) for m in batch]
            if promoted.is_set():
                after += 1
                if after >= STREAM_AFTER_PROMOTION:
                    return
            await asyncio.sleep(0.2)


async def test_failover_under_kiosk_payments_and_the_stream_loses_and_duplicates_nothing(
    pair: Settings,
) -> None:
    up = await saku(pair, "replica", "up")
    assert up.returncode == 0, up.stdout + up.stderr
    assert "commits are synchronous" in up.stdout

    application = create_app(pair)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://saku.test"
        ) as client,
        create_pool(pair.resolved_database_url(), max_size=2) as pool,
    ):
        world = await build_world(pair, pool, client)
        tills = []
        for _ in range(KIOSKS):
            student = await world.student()
            await world.top_up(student, "1000000")
            tills.append(Till(world, student))
        promoted, stop = asyncio.Event(), asyncio.Event()
        bank = Bank(pair, await a_bank(pool))
        consuming = asyncio.create_task(run_consumer(pair, stop))
        running = [asyncio.create_task(t.run(promoted, stop)) for t in tills]
        running.append(asyncio.create_task(bank.run(promoted, stop)))
        try:

            async def paying() -> bool:
                return sum(len(t.acknowledged) for t in tills) >= 3 * KIOSKS

            assert await eventually(paying, 60)
            primary = Postgres(pair).process.running_pid()
            assert primary is not None
            os.killpg(primary, signal.SIGKILL)  # the server and every backend: a crash
            killed_at = time.monotonic()
            failed_over = await saku(pair, "failover")
            promoted_at = time.monotonic()
            promoted.set()
            assert failed_over.returncode == 0, failed_over.stdout + failed_over.stderr
            assert "postgres-replica on port" in failed_over.stdout
            await asyncio.wait_for(asyncio.gather(*running), 120)
            await check_stream_evaluated_once(pair, bank)
        finally:
            stop.set()
            for task in running:
                task.cancel()
            await consuming
        await check_nothing_lost_or_doubled(pool, world, tills)
        report_interruption(tills, killed_at, promoted_at)

    rejoined = await saku(pair, "replica", "rejoin")
    assert rejoined.returncode == 0, rejoined.stdout + rejoined.stderr
    new_primary = PostgresReplica(pair).superuser_url("postgres")
    assert [(s.state, s.sync_state) for s in standbys(new_primary)] == [("streaming", "sync")]

    down = await saku(pair, "replica", "down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert "standby postgres stopped" in down.stdout  # the former primary, rejoined
    # the primary no longer waits for a standby: a commit returns
    async with await psycopg.AsyncConnection.connect(pair.resolved_database_url()) as conn:
        await asyncio.wait_for(conn.execute("CREATE TABLE after_the_standby_left ()"), 10)
        await asyncio.wait_for(conn.commit(), 10)


async def check_nothing_lost_or_doubled(pool: Pool, world: World, tills: list[Till]) -> None:
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT inet_server_port() AS port")
        row = await cur.fetchone()
        assert row is not None and row["port"] == world.settings.pg_replica_port
        cur = await conn.execute(
            "SELECT idempotency_key, count(*) AS n FROM postings "
            "WHERE tenant_id = %s AND idempotency_key LIKE %s GROUP BY idempotency_key",
            (world.tenant, f"kiosk:{world.kiosk.id}:%"),
        )
        posted = {r["idempotency_key"]: r["n"] for r in await cur.fetchall()}
    approved = {
        f"kiosk:{world.kiosk.id}:{tx}"
        for t in tills
        for tx, status in t.acknowledged.items()
        if status == "approved"
    }
    assert approved
    assert set(posted) == approved  # none lost, none posted that was not approved
    assert all(n == 1 for n in posted.values())  # none twice
    for till in tills:
        spent = PRICE * sum(status == "approved" for status in till.acknowledged.values())
        assert Decimal(await world.balance(till.student)) == Decimal(1000000) - spent
    result = await Ledger(pool).verify(world.tenant)
    assert result.ok, result.problems


async def check_stream_evaluated_once(settings: Settings, bank: Bank) -> None:
    """Every message the bank streamed before, during and after the failover is stored once
    and its payment evaluated once (one evaluation per payment: its pacs.002), on the
    promoted server."""
    url = settings.resolved_database_url()
    payments_sent = len(bank.sent) // 4

    async def all_evaluated() -> bool:
        return len(await asyncio.to_thread(evaluations, url, bank.tenant)) >= payments_sent

    assert await eventually(all_evaluated, 120)
    await asyncio.sleep(1)  # and nothing more arrives
    decided = await asyncio.to_thread(evaluations, url, bank.tenant)
    assert len(decided) == payments_sent
    assert all(count == 1 for _, count in decided.values())
    assert await asyncio.to_thread(stored, url, bank.tenant) == sorted(bank.sent)
    print(f"\nfailover: {len(bank.sent)} streamed messages, each stored and evaluated once")


def report_interruption(tills: list[Till], killed_at: float, promoted_at: float) -> None:
    answers = sorted(a for t in tills for a in t.answers)
    failures = [at for at, status in answers if status != 200 and at >= killed_at]
    last_before = max(at for at, status in answers if status == 200 and at < killed_at)
    back = next(at for at, status in answers if status == 200 and at >= promoted_at)
    payments = sum(len(t.acknowledged) for t in tills)
    # A request that reached the dead primary is not refused: its workflow's activity
    # retries until the promoted server answers, so the kiosk sees a slow answer (or a 503
    # after its wait). The interruption is therefore the gap without an acknowledgement.
    print(
        f"\nfailover: {payments} payments acknowledged by {len(tills)} kiosks; "
        f"{len(failures)} answers 503 after the kill"
        + (f" (first {(failures[0] - killed_at) * 1000:.0f} ms after it)" if failures else "")
        + f"; no payment acknowledged for {(back - last_before) * 1000:.0f} ms "
        f"(kill -> first acknowledgement after promotion {(back - killed_at) * 1000:.0f} ms, "
        f"of which `saku dr failover` {(promoted_at - killed_at) * 1000:.0f} ms)"
    )


async def test_reports_reach_the_primary_of_a_multi_host_url(stack: Settings) -> None:
    """dbt takes one host: of a primary and its standby, the one accepting writes."""
    live = stack.resolved_database_url()
    password = conninfo_to_dict(live)["password"]
    two = stack.model_copy(
        update={
            "database_url": f"postgresql://saku:{password}@127.0.0.1:{free_port()},"
            f"127.0.0.1:{stack.pg_port}/saku?target_session_attrs=read-write"
        }
    )
    env = await asyncio.to_thread(dbt_environment, two)
    assert (env["SAKU_DBT_HOST"], env["SAKU_DBT_PORT"]) == ("127.0.0.1", str(stack.pg_port))
    assert (env["SAKU_DBT_USER"], env["SAKU_DBT_PASSWORD"]) == ("saku", password)
    assert env["SAKU_DBT_DBNAME"] == "saku"
