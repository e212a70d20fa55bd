"""Nothing lost across a restore, for every way work arrives: the bank's stream, top-ups on
Kafka and by API, kiosk payments and a kiosk's offline journal.

Saku runs a school's morning: stream payments, top-ups on both channels, kiosk payments
(one declined) and offline sales synced from a kiosk's journal. A base backup is taken. A
status report is stored while no worker runs, the restore point is taken, and only then is
it evaluated. Saku does the same again. PostgreSQL is restored to the restore point; the
restore is recorded (`saku dr restore` does it), and Saku — worker, consumer, API — is
brought up on the restored copy with the same Temporal, which still holds every finished
workflow of the lost half. The sources then do what they would: Kafka is read again from
the restored offsets, the bank sends its API top-ups again, the kiosk asks again about its
payments with the same transaction ids, and the kiosk agent, seeing the restore in its
configuration, finds the synced sales Saku lost and syncs them again.

Every message is then evaluated exactly once, every movement posted exactly once with the
decision it had, the ledger's invariant holds, and every account's balance equals the one
of the run that had no disaster (the live database)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from activities.dr import basebackup
from activities.dr.restore import restore
from activities.dr.restores import mark_restored
from activities.wallet.ledger import Ledger
from api.app import create_app
from core import topics
from core.db import Pool, create_pool
from core.monitoring.transactions import TxType
from core.security import Role
from core.settings import Settings
from devices.kiosk.agent import KioskAgent
from devices.kiosk.client import KioskClient, KioskIdentity
from devices.kiosk.journal import Journal
from devices.kiosk.link import Link
from devices.kiosk.sensor import Sensor
from devices.kiosk.slots import SlotMap
from saku.stack.components import ensure_topics
from saku.wiring import run_consumer
from tests.integration.test_dr_backups import write_and_archive
from tests.integration.test_dr_offsets import payments, query, saku_running
from tests.integration.test_monitoring import msg_id, produce
from tests.integration.wallet_world import World, build_world
from tests.stackutil import eventually

pytestmark = pytest.mark.integration

OFFLINE_SALE = Decimal(5000)


@asynccontextmanager
async def saku_serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Worker, consumer and the API (with its own worker) on `settings`; the API's client."""
    app = create_app(settings)
    async with app.router.lifespan_context(app), saku_running(settings):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://saku.test") as client:
            yield client


@asynccontextmanager
async def consumer_only(settings: Settings) -> AsyncIterator[None]:
    """The stream consumer alone: it stores what comes and starts evaluations no worker
    takes up yet."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_consumer(settings, stop))
    try:
        yield
    finally:
        stop.set()
        await task


async def produce_topups(settings: Settings, bodies: list[dict[str, Any]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.resolved_kafka_bootstrap())
    await producer.start()
    try:
        for body in bodies:
            await producer.send_and_wait(
                settings.topic(topics.TOPUPS.name), json.dumps(body).encode()
            )
    finally:
        await producer.stop()


def bank(world: World) -> dict[str, str]:
    return world.token(Role.INTEGRATION)


def kiosk_agent(world: World, network: Link, folder: Path) -> KioskAgent:
    kiosk = world.kiosk
    identity = KioskIdentity(world.tenant, kiosk.id, kiosk.key_id, kiosk.private_key)
    http = httpx.AsyncClient(transport=network, base_url="http://saku.test")
    folder.mkdir()
    return KioskAgent(
        KioskClient(http, identity),
        Sensor("/dev/null"),  # sales by QR card: the sensor is not used
        SlotMap(folder / "slots.sqlite"),
        Journal(folder / "journal.sqlite", identity),
    )


@dataclasses.dataclass
class Morning:
    """What the sources sent in one half of the morning (to send again after the restore)."""

    api_topups: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    kafka_topups: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    kiosk_payments: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    receipts: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)  # by tx id
    stream: list[dict[str, Any]] = dataclasses.field(default_factory=list)


async def a_morning(
    world: World, settings: Settings, students: list[str], till: KioskAgent, network: Link
) -> Morning:
    """Top-ups by API and Kafka, kiosk payments (one declined), two offline sales synced,
    three stream payments (the caller waits until every one is decided)."""
    morning = Morning()
    for student in students:
        body = {
            "topupId": f"bank-{uuid.uuid4().hex[:10]}",
            "studentId": student,
            "amount": "100000",
            "payerAccount": f"acct-{student}",
            "payerName": "Ibu Sari",
        }
        receipt = await world.post("/v1/topups", body, bank(world))
        assert receipt["status"] == "credited"
        morning.api_topups.append(body)
        morning.kafka_topups.append(
            body | {"topupId": f"bank-{uuid.uuid4().hex[:10]}", "tenantId": world.tenant}
        )
    await produce_topups(settings, morning.kafka_topups)
    for n, student in enumerate(students):
        for amount in ("3000", "4500") if n else ("3000", "4500", "9000000"):  # over: declined
            body = {"kiosk_tx_id": world.kiosk_tx(), "student_id": student, "amount": amount}
            receipt = await world.pay(student, amount, tx=body["kiosk_tx_id"])
            assert receipt["status"] == ("declined" if amount == "9000000" else "approved")
            morning.kiosk_payments.append(body)
            morning.receipts[body["kiosk_tx_id"]] = receipt
    network.down = True
    for student in students[:2]:
        sold = await till.pay_with_student(student, OFFLINE_SALE, "qr")
        assert sold.approved and sold.offline
    network.down = False
    assert await till.sync_offline() == 2
    morning.stream = payments(world.tenant, 3)
    await produce(settings, *morning.stream)
    return morning


def count(url: str, sql: str, *args: Any) -> int:
    return int(query(url, sql, *args)[0][0])


def evaluations(url: str, tenant: str) -> dict[str, tuple[str, str, int]]:
    """msg id -> (message type, decision, evaluations of it)."""
    rows = query(
        url,
        "SELECT msg_id, min(tx_type), min(status), count(*) FROM evaluations "
        "WHERE tenant_id = %s GROUP BY msg_id",
        tenant,
    )
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def postings(url: str, tenant: str) -> dict[str, int]:
    """idempotency key -> postings under it."""
    rows = query(
        url,
        "SELECT idempotency_key, count(*) FROM postings WHERE tenant_id = %s GROUP BY 1",
        tenant,
    )
    return {r[0]: r[1] for r in rows}


def movements(url: str, tenant: str) -> dict[str, tuple[Any, ...]]:
    """Every payment and top-up: its decision, amount, whether offline, posted or not."""
    found: dict[str, tuple[Any, ...]] = {}
    for row in query(
        url,
        "SELECT kiosk_id || ':' || kiosk_tx_id, status, reason_code, amount, offline, "
        "posting_id IS NOT NULL FROM payments WHERE tenant_id = %s",
        tenant,
    ):
        found[f"payment {row[0]}"] = row[1:]
    for row in query(
        url,
        "SELECT id, status, reason_code, amount, channel, posting_id IS NOT NULL "
        "FROM topups WHERE tenant_id = %s",
        tenant,
    ):
        found[f"top-up {row[0]}"] = row[1:]
    return found


def balances(url: str, tenant: str) -> dict[str, Decimal]:
    rows = query(
        url,
        "SELECT account_id, sum(amount) FROM ledger_entries WHERE tenant_id = %s "
        "GROUP BY account_id HAVING sum(amount) <> 0",
        tenant,
    )
    return {r[0]: Decimal(r[1]) for r in rows}


async def test_after_a_restore_every_message_and_movement_is_done_exactly_once(
    stack: Settings, pool: Pool, task_queue: str, tmp_path: Path
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
    network = Link(httpx.MockTransport(lambda _: httpx.Response(503)))  # Saku's, below

    async with saku_serving(settings) as client:
        world = await build_world(settings, pool, client)
        students = [await world.student() for _ in range(3)]
        network.inner = client._transport
        till = kiosk_agent(world, network, tmp_path / "till")
        await till.refresh_config()
        assert till.restore_epoch is None  # never restored
        first = await a_morning(world, settings, students, till, network)
        await everything_decided(live, world.tenant, first, 2)
    backup = await asyncio.to_thread(basebackup.take, settings, "test")
    assert backup.verified

    # a status report stored (with its offsets) while no worker runs: evaluated only after
    # the restore point
    late = payments(world.tenant, 1)
    report = msg_id(late[-1])
    async with consumer_only(settings):
        await produce(settings, *late)

        async def stored() -> bool:
            found = await asyncio.to_thread(
                count,
                live,
                "SELECT count(*) FROM raw_messages WHERE tenant_id = %s AND msg_id = %s",
                world.tenant,
                report,
            )
            return found == 1

        assert await eventually(stored, 30)
    await asyncio.sleep(0.5)
    between = datetime.now(UTC)
    await asyncio.sleep(0.5)

    async with saku_serving(settings) as client:
        world = dataclasses.replace(world, client=client)
        network.inner = client._transport
        second = await a_morning(world, settings, students, till, network)
        await everything_decided(live, world.tenant, second, 4, late=report)
    await asyncio.to_thread(write_and_archive, settings, f"nothing-lost-{task_queue}")
    no_disaster = (
        evaluations(live, world.tenant),
        postings(live, world.tenant),
        movements(live, world.tenant),
        balances(live, world.tenant),
    )

    restored = await asyncio.to_thread(restore, settings, to=between)
    try:
        url = restored.url
        epoch = await mark_restored(url, restored.backup.id, between)
        kept = (evaluations(url, world.tenant), postings(url, world.tenant))
        kept_movements = movements(url, world.tenant)
        # the restore point: the first half and the late report's history, nothing after
        assert report not in kept[0]
        assert count(url, "SELECT count(*) FROM raw_messages WHERE msg_id = %s", report) == 1
        assert set(kept_movements) < set(no_disaster[2])

        on_restored = settings.model_copy(update={"database_url": url})
        async with saku_serving(on_restored) as client:
            world = dataclasses.replace(world, client=client)
            network.inner = client._transport
            # Kafka brings its top-ups and payments again from the restored offsets; the
            # consumer evaluated the late report on its start
            assert await eventually(lambda: kafka_topups_in(url, world.tenant, second), 60)
            # the bank sends its API top-ups again, the kiosk asks again about its payments
            for body in first.api_topups + second.api_topups:
                receipt = await world.post("/v1/topups", body, bank(world))
                assert receipt["status"] == "credited"
            for body in first.kiosk_payments + second.kiosk_payments:
                student, amount, tx = body["student_id"], body["amount"], body["kiosk_tx_id"]
                receipt = await world.pay(student, amount, tx=tx)
                given = (first.receipts | second.receipts)[tx]
                if f"payment {world.kiosk.id}:{tx}" in kept_movements:
                    assert receipt == given  # the first answer, as it was
                else:  # done again: the decision it was given (the posting is a new one)
                    decision = ("reference", "status", "reason_code", "reason", "amount")
                    assert {k: receipt[k] for k in decision} == {k: given[k] for k in decision}
            # the kiosk sees the restore and syncs again what Saku lost of its journal
            await till.refresh_config()
            assert till.restore_epoch == epoch
            lost_sales = await till.catch_up_after_restore()
            assert lost_sales == 2
            assert await till.sync_offline() == 2
            assert await till.catch_up_after_restore() == 0  # caught up: not asked again
            await everything_decided(url, world.tenant, second, 4, late=report)
            # and nothing more happens: asked once more, all of it stands
            assert await till.check_synced() == 0
            await asyncio.sleep(2)

        after = (
            evaluations(url, world.tenant),
            postings(url, world.tenant),
            movements(url, world.tenant),
            balances(url, world.tenant),
        )
        assert set(after[0]) == set(no_disaster[0])  # every message evaluated
        assert all(n == 1 for *_, n in after[0].values())  # exactly once
        stream = {m: v for m, v in after[0].items() if v[0] == TxType.PACS_002}
        assert len(stream) == 7  # three payments a half, and the late one
        assert stream == {m: no_disaster[0][m] for m in stream}  # with the same decisions
        assert after[1] == no_disaster[1]  # every movement posted once
        assert after[2] == no_disaster[2]  # with the decision it had
        assert after[3] == no_disaster[3]  # the ledger: every balance as with no disaster
        async with create_pool(url) as restored_pool:
            verified = await Ledger(restored_pool).verify(world.tenant)
        assert verified.ok, verified.problems
        swept = query(url, "SELECT swept_at FROM dr_restores WHERE epoch = %s", epoch)
        assert swept[0][0] is not None
        print(
            f"restored to {between.isoformat()} in {restored.seconds:.1f} s: "
            f"evaluations kept {len(kept[0])}, redone {len(after[0]) - len(kept[0])}; "
            f"postings kept {len(kept[1])}, redone {len(after[1]) - len(kept[1])} "
            f"({redone(kept_movements, after[2])}); "
            f"offline sales synced again {lost_sales}; ledger invariant OK, "
            f"{len(after[3])} balances equal to the run with no disaster"
        )
    finally:
        await asyncio.to_thread(restored.instance.stop)


def redone(kept: dict[str, tuple[Any, ...]], after: dict[str, tuple[Any, ...]]) -> str:
    """Movements done again, by kind."""
    kinds: dict[str, int] = {}
    for key, row in after.items():
        if key in kept:
            continue
        kind = key.split()[0]
        if kind == "payment":
            kind = "offline sale" if row[3] else f"kiosk payment {row[0]}"
        else:
            kind = f"top-up by {row[3]}"
        kinds[kind] = kinds.get(kind, 0) + 1
    return ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items()))


async def kafka_topups_in(url: str, tenant: str, morning: Morning) -> bool:
    ids = [b["topupId"] for b in morning.kafka_topups]
    found = await asyncio.to_thread(
        count, url, "SELECT count(*) FROM topups WHERE tenant_id = %s AND id = ANY(%s)", tenant, ids
    )
    return found == len(ids)


async def everything_decided(
    url: str, tenant: str, morning: Morning, synced: int, *, late: str | None = None
) -> None:
    """Every top-up decided, `synced` offline sales posted, every stream payment (and the
    late report) evaluated."""
    # every fourth message is a payment's status report, which is evaluated
    reports = [msg_id(m) for m in morning.stream[3::4]] + ([late] if late else [])

    async def done() -> bool:
        return (
            await kafka_topups_in(url, tenant, morning)
            and await asyncio.to_thread(
                count,
                url,
                "SELECT count(*) FROM payments WHERE tenant_id = %s AND offline",
                tenant,
            )
            == synced
            and await asyncio.to_thread(
                count,
                url,
                "SELECT count(*) FROM evaluations WHERE tenant_id = %s AND msg_id = ANY(%s)",
                tenant,
                reports,
            )
            == len(reports)
        )

    assert await eventually(done, 90, interval=0.2)
