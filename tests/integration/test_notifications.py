"""Guardian notifications against the real database and a real local HTTP receiver."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest
from psycopg.rows import DictRow

from activities.wallet.ledger import Ledger
from activities.wallet.notifications import WebhookSender, notify_guardians, sign
from activities.wallet.webhook_targets import WebhookPolicy
from core.db import Pool
from core.settings import Settings
from tests.stackutil import eventually, free_port

pytestmark = pytest.mark.integration

SECRET = "webhook-test-secret-" + "x" * 16


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A minimal HTTP/1.1 server: records every request, answers with scripted statuses."""

    port: int = 0
    received: list[Request] = field(default_factory=list)
    # path -> statuses to answer in turn; 200 once they run out
    script: dict[str, list[int]] = field(default_factory=dict)
    delay_s: float = 0.0

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{name}"

    def to(self, name: str) -> list[Request]:
        return [r for r in self.received if r.path == f"/hook/{name}"]

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # the sender may give up (timeout) and drop the connection while we answer
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            request_line = await reader.readline()
            headers = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            path = request_line.split()[1].decode()
            self.received.append(Request(path, headers, body))
            await asyncio.sleep(self.delay_s)
            statuses = self.script.get(path)
            status = statuses.pop(0) if statuses else 200
            writer.write(
                f"HTTP/1.1 {status} Scripted\r\nContent-Length: 0\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            await writer.drain()
        writer.close()


@dataclass
class Family:
    tenant: str
    student: str


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    async with server:
        yield receiver


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
async def family(pool: Pool, receiver: Receiver) -> AsyncIterator[Family]:
    """A tenant of its own with a school and a student whose guardian `mum` has a webhook and
    whose guardian `dad` has none."""
    fam = Family(tenant=f"notify-{uuid.uuid4().hex[:8]}", student="stu-budi")
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO tenants (id, name) VALUES (%s, 'Notification tests')", (fam.tenant,)
        )
        await conn.execute(
            "INSERT INTO schools (tenant_id, id, name) VALUES (%s, 'sd-1', 'SD 1')", (fam.tenant,)
        )
    await Ledger(pool).open_account(fam.tenant, "wallet:budi", "student_wallet", fam.student)
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO students (tenant_id, id, school_id, display_name, account_id) "
            "VALUES (%s, %s, 'sd-1', 'Budi S.', 'wallet:budi')",
            (fam.tenant, fam.student),
        )
    await add_guardian(pool, fam, "mum", receiver.url("mum"))
    await add_guardian(pool, fam, "dad", None)
    yield fam
    # nothing of ours may stay pending for the worker senders of later tests
    async with pool.connection() as conn:
        await conn.execute("DELETE FROM notification_outbox WHERE tenant_id = %s", (fam.tenant,))


async def add_guardian(pool: Pool, fam: Family, guardian: str, url: str | None) -> None:
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO guardians (tenant_id, id, display_name, webhook_url) "
            "VALUES (%s, %s, %s, %s)",
            (fam.tenant, guardian, guardian.title(), url),
        )
        await conn.execute(
            "INSERT INTO student_guardians (tenant_id, student_id, guardian_id) "
            "VALUES (%s, %s, %s)",
            (fam.tenant, fam.student, guardian),
        )


async def queue(pool: Pool, fam: Family, dedup_key: str, **payload: Any) -> int:
    async with pool.connection() as conn, conn.transaction():
        body = payload or {"amount": Decimal(12_500)}
        return await notify_guardians(conn, fam.tenant, fam.student, "purchase", body, dedup_key)


async def outbox(pool: Pool, fam: Family) -> list[DictRow]:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT *, next_attempt_at - now() AS wait FROM notification_outbox "
            "WHERE tenant_id = %s ORDER BY id",
            (fam.tenant,),
        )
        return await cur.fetchall()


def sender(pool: Pool, http: httpx.AsyncClient, **overrides: Any) -> WebhookSender:
    options: dict[str, Any] = {
        "secret": SECRET,
        "max_attempts": 3,
        "timeout_s": 2.0,
        "backoff": lambda attempt: 0.0,  # retries due at once, so tests need not wait
        # the receiver listens on this machine: allow-listed, as a development receiver is
        "policy": WebhookPolicy(["127.0.0.1"]),
    }
    options.update(overrides)
    return WebhookSender(pool, http, **options)


async def test_delivery_is_signed_and_marked_sent(
    pool: Pool, http: httpx.AsyncClient, receiver: Receiver, family: Family
) -> None:
    assert await queue(pool, family, "purchase:k1:tx1", amount=Decimal("12500.0000")) == 1
    await sender(pool, http).deliver_due()

    [request] = receiver.to("mum")
    [row] = await outbox(pool, family)
    assert request.headers["x-saku-signature"] == sign(SECRET, request.body)
    assert request.headers["x-saku-delivery"] == str(row["id"])
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.body)
    assert body == {
        "id": str(row["id"]),
        "kind": "purchase",
        "tenant": family.tenant,
        "studentId": family.student,
        "payload": {"amount": "12500.0000"},
        "createdAt": body["createdAt"],
    }
    assert body["createdAt"].endswith("+00:00")
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 1, None)
    assert row["sent_at"] is not None


async def test_webhooks_to_internal_addresses_are_never_sent(
    pool: Pool, http: httpx.AsyncClient, receiver: Receiver, family: Family
) -> None:
    """Without the development allow-list, the local receiver is an internal address: the
    notification is refused before any request, by its literal address or by what its name
    resolves to at delivery (the row may predate the check, or the name may have changed)."""
    await add_guardian(pool, family, "uncle", f"https://localhost:{receiver.port}/hook/uncle")
    assert await queue(pool, family, "purchase:k1:internal") == 2
    await sender(pool, http, policy=WebhookPolicy()).deliver_due()

    assert receiver.received == []
    rows = {r["guardian_id"]: r for r in await outbox(pool, family)}
    assert rows["mum"]["status"] == "dead"
    assert "must be https" in rows["mum"]["last_error"]
    assert rows["uncle"]["status"] == "dead"
    assert "local name" in rows["uncle"]["last_error"]


async def test_a_name_resolving_to_an_internal_address_is_refused_at_delivery(
    pool: Pool, http: httpx.AsyncClient, receiver: Receiver, family: Family
) -> None:
    # names that are no address literal but resolve to loopback (as a rebinding name would)
    await add_guardian(pool, family, "aunt", f"https://2130706433:{receiver.port}/hook/a")
    await add_guardian(pool, family, "gran", f"https://127.1:{receiver.port}/hook/g")
    await queue(pool, family, "purchase:k1:rebind")
    await sender(pool, http, policy=WebhookPolicy()).deliver_due()

    assert receiver.received == []
    rows = {r["guardian_id"]: r for r in await outbox(pool, family)}
    for guardian in ("aunt", "gran"):
        assert rows[guardian]["status"] == "dead", rows[guardian]
        assert "loopback" in rows[guardian]["last_error"], rows[guardian]["last_error"]


async def test_a_guardian_without_webhook_gets_no_row(pool: Pool, family: Family) -> None:
    await add_guardian(pool, family, "aunt", "https://aunt.example/hook")
    assert await queue(pool, family, "topup:t1") == 2
    assert sorted(r["guardian_id"] for r in await outbox(pool, family)) == ["aunt", "mum"]


async def test_a_rolled_back_cause_queues_nothing(pool: Pool, family: Family) -> None:
    with pytest.raises(RuntimeError):
        async with pool.connection() as conn, conn.transaction():
            await notify_guardians(conn, family.tenant, family.student, "topup", {}, "t2")
            raise RuntimeError("the top-up failed after queueing")
    assert await outbox(pool, family) == []


async def test_the_same_dedup_key_delivers_once(
    pool: Pool, http: httpx.AsyncClient, receiver: Receiver, family: Family
) -> None:
    assert await queue(pool, family, "low-balance:2024-05-02") == 1
    assert await queue(pool, family, "low-balance:2024-05-02") == 0
    webhooks = sender(pool, http)
    await webhooks.deliver_due()
    await webhooks.deliver_due()
    assert len(receiver.to("mum")) == 1
    assert [r["status"] for r in await outbox(pool, family)] == ["sent"]


async def test_a_failed_delivery_waits_for_its_backoff(
    pool: Pool, http: httpx.AsyncClient, receiver: Receiver, family: Family
) -> None:
    receiver.script["/hook/mum"] = [503]
    await queue(pool, family, "k-backoff")
    webhooks = sender(pool, http, backoff=lambda attempt: 30.0 * attempt)
    await webhooks.deliver_due()
    [row] = await outbox(pool, family)
    assert (row["status"], row["attempts"], row["last_error"]) == ("pending", 1, "HTTP 503")
    assert 25 < row["wait"].total_seconds() <= 30
    await webhooks.deliver_due()  # not due yet: nothing is sent
    assert len(receiver.to("mum")) == 1


async def test_a_receiver_failing_twice_gets_it_on_the_third_attempt(
    pool: Pool, http: httpx.AsyncClient, receiver: Receiver, family: Family
) -> None:
    receiver.script["/hook/mum"] = [500, 502, 200]
    await queue(pool, family, "k-retry")
    webhooks = sender(pool, http)
    for _ in range(3):
        await webhooks.deliver_due()
    [row] = await outbox(pool, family)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 3, None)
    # every attempt is the same delivery, so the receiver can dedupe
    assert {r.headers["x-saku-delivery"] for r in receiver.to("mum")} == {str(row["id"])}
    assert len(receiver.to("mum")) == 3


async def test_a_receiver_that_always_fails_ends_dead(
    pool: Pool,
    http: httpx.AsyncClient,
    receiver: Receiver,
    family: Family,
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver.script["/hook/mum"] = [500] * 10
    await queue(pool, family, "k-dead")
    webhooks = sender(pool, http, max_attempts=3)
    with caplog.at_level(logging.WARNING, logger="activities.wallet.notifications"):
        for _ in range(5):
            await webhooks.deliver_due()
    [row] = await outbox(pool, family)
    assert (row["status"], row["attempts"], row["last_error"]) == ("dead", 3, "HTTP 500")
    assert len(receiver.to("mum")) == 3
    assert any(
        r.getMessage() == "webhook notification dead-lettered"
        and getattr(r, "outbox_id", None) == row["id"]
        for r in caplog.records
    )


async def test_unreachable_and_slow_receivers_count_as_failures(
    pool: Pool, http: httpx.AsyncClient, receiver: Receiver, family: Family
) -> None:
    # a port nobody listens on, with a token in the URL that must not reach last_error
    await add_guardian(pool, family, "gran", f"http://127.0.0.1:{free_port()}/h?token=s3cret")
    receiver.delay_s = 1.0
    await queue(pool, family, "k-down")
    await sender(pool, http, timeout_s=0.3, max_attempts=1).deliver_due()
    errors = {r["guardian_id"]: (r["status"], r["last_error"]) for r in await outbox(pool, family)}
    assert errors == {"mum": ("dead", "timeout"), "gran": ("dead", "ConnectError")}


async def test_concurrent_senders_never_send_a_row_twice(
    pool: Pool, http: httpx.AsyncClient, receiver: Receiver, family: Family
) -> None:
    await add_guardian(pool, family, "aunt", receiver.url("aunt"))
    for n in range(30):
        await queue(pool, family, f"k-{n}")
    receiver.delay_s = 0.01  # keeps deliveries in flight while the other sender claims
    senders = [sender(pool, http), sender(pool, http)]
    claimed = [0, 0]
    for _ in range(10):
        counts = await asyncio.gather(*(s.deliver_due(limit=7) for s in senders))
        claimed = [c + n for c, n in zip(claimed, counts, strict=True)]
        rows = await outbox(pool, family)
        if all(r["status"] == "sent" for r in rows):
            break
    ids = [r.headers["x-saku-delivery"] for r in receiver.received]
    assert len(ids) == len(set(ids)) == 60
    assert all(r["status"] == "sent" and r["attempts"] == 1 for r in rows)
    assert min(claimed) > 0  # both senders really took part


async def test_run_delivers_until_stopped(
    pool: Pool, http: httpx.AsyncClient, receiver: Receiver, family: Family
) -> None:
    stop = asyncio.Event()
    running = asyncio.create_task(sender(pool, http, idle_s=0.05).run(stop))
    await queue(pool, family, "k-run")

    async def sent() -> bool:
        return [r["status"] for r in await outbox(pool, family)] == ["sent"]

    assert await eventually(sent, timeout=10)
    stop.set()
    await asyncio.wait_for(running, timeout=5)


async def test_the_worker_process_delivers_notifications(
    pool: Pool, receiver: Receiver, family: Family, processes: Settings
) -> None:
    """run_worker starts a sender with the settings' secret and stops it with the worker."""
    await queue(pool, family, "k-worker")

    async def delivered() -> bool:
        return len(receiver.to("mum")) == 1

    assert await eventually(delivered, timeout=15)
    [request] = receiver.to("mum")
    assert request.headers["x-saku-signature"] == sign(
        processes.resolved_webhook_secret(), request.body
    )
