"""The wallet's other doors: top-ups from the bank's Kafka stream, kiosk signatures refused
on the payment route itself, and a worker killed in the middle of a payment."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI, HTTPException
from temporalio.client import Client

from activities.wallet.statements import Statements
from api.app import create_app
from api.starters import wallet as wallet_starts
from core import topics
from core.db import Pool
from core.kiosk_signing import sign_request
from core.security import Role
from core.settings import Settings
from core.wallet.portal import virtual_account_number
from core.wallet.types import PaymentRequest, Receipt
from tests.integration.test_monitoring import read_topic
from tests.integration.wallet_world import World, build_world, now_ms
from tests.stackutil import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def world(processes: Settings, pool: Pool) -> AsyncIterator[World]:
    """A school whose API, worker and consumer share this test's task queue and topics."""
    app: FastAPI = create_app(processes)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://saku.test", timeout=30
        ) as client:
            yield await build_world(processes, pool, client)


async def produce_topups(settings: Settings, *values: bytes, key: bytes | None = None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.resolved_kafka_bootstrap())
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(settings.topic(topics.TOPUPS.name), value, key=key)
    finally:
        await producer.stop()


async def topup_status(pool: Pool, tenant: str, topup_id: str) -> str | None:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT status FROM topups WHERE tenant_id = %s AND id = %s", (tenant, topup_id)
        )
        row = await cur.fetchone()
    return None if row is None else str(row["status"])


async def test_top_ups_from_kafka_are_evaluated_credited_once_and_bad_ones_dead_lettered(
    world: World, processes: Settings, pool: Pool
) -> None:
    student = await world.student()
    event = {
        "topupId": f"bca-{uuid.uuid4().hex[:10]}",
        "tenantId": world.tenant,
        "studentId": student,
        "amount": "75000",
        "currency": "IDR",
        "payerAccount": "bca-0123456789",
        "payerName": "Bapak Joko",
        "createdAt": "2026-11-23T06:05:00+07:00",
    }
    good = json.dumps(event).encode()
    bad: list[tuple[bytes, str]] = [
        (b"{not json", "malformed JSON"),
        (json.dumps({**event, "topupId": "x1", "amount": "-5"}).encode(), "amount"),
        (json.dumps({**event, "topupId": "x2", "currency": "USD"}).encode(), "currency"),
        (json.dumps({**event, "topupId": "x3", "tenantId": "no-such"}).encode(), "unknown tenant"),
        (json.dumps({**event, "topupId": "x4", "studentId": "ghost"}).encode(), "no student"),
        (json.dumps({k: v for k, v in event.items() if k != "payerName"}).encode(), "payerName"),
    ]
    await produce_topups(processes, *(b for b, _ in bad), good, good)  # the good one twice

    async def credited() -> bool:
        return await topup_status(pool, world.tenant, event["topupId"]) == "credited"

    await eventually(credited, timeout=30)
    assert await world.balance(student) == "75000.0000"
    letters = await read_topic(processes, topics.DEAD_LETTER.name, len(bad))
    assert sorted(r.value for r in letters) == sorted(b for b, _ in bad)
    reasons = dict(bad)
    for record in letters:
        reason = dict(record.headers)["saku-reason"].decode()
        assert reasons[record.value] in reason, reason
    # the duplicate delivery changed nothing, and the API sees the same decision
    response = await world.client.get(
        f"/v1/topups/{event['topupId']}", headers=world.token(Role.INTEGRATION)
    )
    assert response.json()["status"] == "credited"
    assert await world.balance(student) == "75000.0000"


async def test_a_topup_id_reused_for_another_topup_on_kafka_is_dead_lettered(
    world: World, processes: Settings, pool: Pool
) -> None:
    student = await world.student()
    event = {
        "topupId": f"bca-{uuid.uuid4().hex[:10]}",
        "tenantId": world.tenant,
        "studentId": student,
        "amount": "50000",
        "payerAccount": "bca-0123456789",
        "payerName": "Ibu Sari",
    }
    first = json.dumps(event).encode()
    other = json.dumps(event | {"amount": "90000"}).encode()  # same id, other money
    # one key, one partition: the consumer sees them in the order sent
    await produce_topups(processes, first, other, first, key=event["topupId"].encode())

    async def credited() -> bool:
        return await topup_status(pool, world.tenant, event["topupId"]) == "credited"

    await eventually(credited, timeout=30)
    # (a batch read again after a transient failure may dead-letter its reject again)
    letters = await read_topic(processes, topics.DEAD_LETTER.name, 1)
    assert {letter.value for letter in letters} == {other}
    for letter in letters:
        reason = dict(letter.headers)["saku-reason"].decode()
        assert "already used for another movement" in reason
    assert await world.balance(student) == "50000.0000"


async def test_a_top_up_to_a_virtual_account_on_kafka_reaches_its_wallet(
    world: World, processes: Settings, pool: Pool
) -> None:
    """The bank names a wallet by its virtual account number (a transfer to it, or its
    answer to an auto top-up request): resolved within the event's tenant; a number no
    wallet of the tenant has is dead-lettered with the reason."""
    student, sibling = await world.student(), await world.student()
    async with pool.connection() as conn:
        rows = await (
            await conn.execute(
                "SELECT id, virtual_account FROM students WHERE tenant_id = %s AND id = ANY(%s)",
                (world.tenant, [student, sibling]),
            )
        ).fetchall()
    numbers = {r["id"]: r["virtual_account"] for r in rows}
    event = {
        "topupId": f"va-{uuid.uuid4().hex[:10]}",
        "tenantId": world.tenant,
        "virtualAccount": numbers[student],
        "amount": "30000",
        "payerAccount": "bca-0123456789",
        "payerName": "Ibu Sari",
    }
    unknown = event | {"topupId": "va-x1", "virtualAccount": virtual_account_number(10**11 - 4)}
    mismatch = event | {"topupId": "va-x2", "studentId": sibling}
    bad = [json.dumps(unknown).encode(), json.dumps(mismatch).encode()]
    await produce_topups(processes, *bad, json.dumps(event).encode(), key=b"va")

    async def credited() -> bool:
        return await topup_status(pool, world.tenant, event["topupId"]) == "credited"

    await eventually(credited, timeout=30)
    assert await world.balance(student) == "30000.0000"
    assert await world.balance(sibling) == "0.0000"
    letters = await read_topic(processes, topics.DEAD_LETTER.name, 2)
    reasons = {r.value: dict(r.headers)["saku-reason"].decode() for r in letters}
    assert set(reasons) == set(bad)
    assert "has no wallet with virtual account" in reasons[bad[0]]
    assert "is not the wallet of studentId" in reasons[bad[1]]


async def test_forged_replayed_stale_and_revoked_signatures_are_refused_on_payments(
    world: World, pool: Pool
) -> None:
    student = await world.student()
    await world.top_up(student, "10000")
    body = {"kiosk_tx_id": world.kiosk_tx(), "student_id": student, "amount": "1000"}
    content = json.dumps(body).encode()
    k = world.kiosk
    headers = sign_request(
        k.private_key, world.tenant, k.id, k.key_id, "POST", "/v1/kiosk/payments", content
    )
    headers["Content-Type"] = "application/json"
    first = await world.client.post("/v1/kiosk/payments", content=content, headers=headers)
    assert first.status_code == 200, first.text
    replayed = await world.client.post("/v1/kiosk/payments", content=content, headers=headers)
    assert replayed.status_code == 401
    assert "nonce" in replayed.json()["detail"]

    more = json.dumps(body | {"amount": "9000"}).encode()  # body changed under the signature
    forged = await world.client.post("/v1/kiosk/payments", content=more, headers=headers)
    assert forged.status_code == 401

    stale = await world.pay_raw(body, timestamp=int(time.time()) - 120)
    assert stale.status_code == 401
    assert "timestamp" in stale.json()["detail"]
    assert await world.balance(student) == "9000.0000"

    revoked = await world.client.post(
        f"/v1/schools/{world.school}/kiosks/{k.id}/keys/{k.key_id}/revoke",
        json={"reason": "kiosk stolen"},
        headers=world.admin,
    )
    assert revoked.status_code == 200, revoked.text
    after = await world.pay_raw(body | {"kiosk_tx_id": world.kiosk_tx()})
    assert after.status_code == 401
    assert "revoked" in after.json()["detail"]
    assert await world.balance(student) == "9000.0000"


def start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "saku", "worker"],
        env=settings.as_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def pay_until_decided(
    client: Client, queue: str, request: PaymentRequest, pool: Pool
) -> Receipt:
    """As a kiosk does: ask again with the same transaction id until there is an answer."""
    deadline = time.monotonic() + 90
    while True:
        try:
            return await wallet_starts.pay(client, queue, request, "school", Statements(pool))
        except HTTPException as err:
            assert err.status_code == 503 and time.monotonic() < deadline, err.detail


async def lock_waiters(pool: Pool) -> int:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE 'UPDATE ledger_balances%%'"
        )
        row = await cur.fetchone()
    assert row is not None
    return int(row["n"])


async def test_a_worker_killed_in_the_middle_of_a_payment_neither_loses_nor_doubles_it(
    stack: Settings, pool: Pool, temporal: Client, task_queue: str, client: httpx.AsyncClient
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student()
    await world.top_up(student, "30000")
    settings = stack.model_copy(update={"task_queue": task_queue})
    request = PaymentRequest(
        world.tenant, world.kiosk.id, "tx-killed-1", student, "12000.0000", now_ms()
    )
    worker = start_worker(settings)
    async with pool.connection() as blocker:
        # hold the wallet's balance row: the payment stops inside its ledger posting
        await blocker.execute("BEGIN")
        await blocker.execute(
            "SELECT 1 FROM ledger_balances WHERE tenant_id = %s AND account_id = %s FOR UPDATE",
            (world.tenant, f"wallet:{student}"),
        )
        paying = asyncio.create_task(pay_until_decided(temporal, task_queue, request, pool))

        async def blocked() -> bool:
            return await lock_waiters(pool) >= 1

        await eventually(blocked, timeout=30)
        os.kill(worker.pid, signal.SIGKILL)  # mid-posting: nothing committed
        worker.wait(10)
        await blocker.execute("ROLLBACK")
    replacement = start_worker(settings)
    try:
        receipt = await asyncio.wait_for(paying, 120)
    finally:
        replacement.terminate()
        replacement.wait(30)
    assert receipt.status == "approved"
    assert receipt.balance_after == "18000.0000"
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT count(*) AS n FROM postings WHERE tenant_id = %s AND idempotency_key = %s",
            (world.tenant, request.msg_id),
        )
        posted = await cur.fetchone()
        cur = await conn.execute(
            "SELECT count(*) AS n FROM payments WHERE tenant_id = %s AND kiosk_tx_id = %s",
            (world.tenant, "tx-killed-1"),
        )
        recorded = await cur.fetchone()
    assert posted is not None and posted["n"] == 1
    assert recorded is not None and recorded["n"] == 1
