"""Losing Valkey loses nothing Saku cannot rebuild: decisions are the same with or without it.

Valkey holds no record of its own. For monitoring it holds the pacs.008 data cache (by
end-to-end id, five minutes), from which a pacs.002 is completed with its payment's parties,
amount and remittance data; a miss reads the stored pacs.008 from PostgreSQL. Account
histories, account ages and entity profiles (the features) are read from PostgreSQL, and the
worker keeps the histories it has read in its own memory, not in Valkey. Besides that Valkey
holds kiosk nonces (with the nonce epoch that closes the replay window their loss opens:
the last test here), PIN and sign-in failure counters and the self-check's key: protections
a flush resets (infra/README.md, "DR runbook", says what that means), but nothing a
decision is computed from.

The design: the two decision tests each run the same workload twice, into two fresh tenants
set up identically, the same messages (same ids, amounts, parties and timestamps) in the
same order. The first run never touches Valkey; the second flushes it (FLUSHALL) every few
milliseconds, so writes to the data cache are lost at random points in every batch (the
kiosk run flushes throughout its top-ups and controls, and then before every sixth purchase
only: after each flush a kiosk seen before it is held for one clock skew, and the test, as
a kiosk would, asks again). Every evaluation of the second run must then equal its
counterpart of the first: status, interdiction, typology scores, and every rule result
(rule, version, outcome and the measured value the outcome was banded from). Equal outcomes
could also come from rules that never looked at the data; so the stream's test checks that
its first run read the pacs.002s' data from a warm cache and its second from an empty one,
and both tests check that the decisions vary (history-based rules land on different bands),
so that a feature rebuilt wrong would show.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from activities.accounts import create_tenant
from activities.monitoring.config_store import ConfigStore, import_bundle
from activities.monitoring.defaults import default_bundle
from activities.monitoring.history import _cache_key
from api.app import create_app
from core import topics
from core.db import Pool
from core.kiosk_signing import sign_request
from core.security import Principal, Role, issue_token
from core.settings import Settings
from saku.iso20022_samples import end_to_end_id, pacs002, pacs008
from tests.integration.wallet_world import Kiosk, World, add_kiosk, build_world
from tests.stackutil import eventually

pytestmark = pytest.mark.integration

PAYMENTS = 60
SKEW_S = 2
NOW = datetime.now(UTC).replace(microsecond=0)


@contextlib.asynccontextmanager
async def flushing(valkey: redis.Redis, every_s: float = 0.01) -> AsyncIterator[list[int]]:
    """FLUSHALL over and over while the block runs; yields the count of flushes so far."""
    flushes = [0]
    stop = asyncio.Event()

    async def flush() -> None:
        # stopped by the event, not cancelled: a cancellation that lands inside the client's
        # command can be swallowed by it, and the loop would flush on for ever
        while not stop.is_set():
            await valkey.flushall()
            flushes[0] += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)

    task = asyncio.create_task(flush())
    try:
        yield flushes
    finally:
        stop.set()
        await task


def decision(evaluation: dict[str, Any]) -> dict[str, Any]:
    """What an evaluation decided, without what differs between tenants or runs (ids,
    timings)."""
    result = evaluation["result"]
    return {
        "status": evaluation["status"],
        "interdicted": evaluation["interdicted"],
        "typologies": sorted(
            (t["id"], t["cfg"], t["score"]) for t in result["adjudication"]["typologies"]
        ),
        "rules": sorted(
            (r["id"], r["cfg"], r["sub_rule_ref"], json.dumps(r.get("indpdnt_varbl")))
            for r in result["rule_results"]
        ),
    }


# --- the bank's stream ---------------------------------------------------------------------


def bank_stream(tenant: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The same 60 payments for any tenant: six guardians paying eight students over two
    hours, some of them often and some large, so that history-based rules (velocity,
    new and dormant accounts, large amounts) land on different bands; a few rejected."""
    rng = random.Random(21)
    start = NOW - timedelta(hours=2)
    payments = []
    for i in range(PAYMENTS):
        at = start + timedelta(seconds=100 * i + rng.randrange(60))
        e2e = f"e2e-{i:03d}"
        credit = pacs008(
            f"p8-{i:03d}",
            e2e,
            debtor=f"guardian_{rng.choice([1, 1, 1, 2, 2, 3, 4, 5, 6])}",
            creditor=f"student_{rng.randrange(8)}",
            amount=rng.choice([10_000.0, 25_000.0, 50_000.0, 100_000.0, 750_000.0, 5_000_000.0]),
            created_at=at,
            tenant_id=tenant,
        )
        status = pacs002(
            f"p2-{i:03d}",
            e2e,
            status="RJCT" if rng.random() < 0.1 else "ACCC",
            created_at=at + timedelta(seconds=2),
            tenant_id=tenant,
        )
        payments.append((credit, status))
    return payments


async def produce(settings: Settings, messages: list[dict[str, Any]]) -> None:
    """The messages, in order, onto one partition. Spread over the topic's partitions, the
    order the consumer reads them in would be up to the broker's fetches, and so would what
    a pacs.002's evaluation knows of earlier payments' statuses (a payment settled by a
    report read in a later batch is not yet settled): the two runs would differ by that,
    not by Valkey."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.resolved_kafka_bootstrap())
    await producer.start()
    try:
        sends = [
            await producer.send(
                settings.topic(topics.TRANSACTIONS.name),
                json.dumps(message).encode(),
                key=end_to_end_id(message).encode(),
                partition=0,
            )
            for message in messages
        ]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def stored(pool: Pool, tenant: str) -> int:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT count(*) AS n FROM raw_messages WHERE tenant_id = %s", (tenant,)
        )
        row = await cur.fetchone()
    assert row is not None
    return int(row["n"])


async def bank_tenant(pool: Pool) -> str:
    tenant = f"bank-{uuid.uuid4().hex[:8]}"
    async with pool.connection() as conn:
        await create_tenant(conn, tenant, "Test bank")
    await import_bundle(ConfigStore(pool), tenant, default_bundle())
    return tenant


async def evaluations(
    client: httpx.AsyncClient, settings: Settings, tenant: str, msg_ids: list[str]
) -> dict[str, dict[str, Any]]:
    token = issue_token(
        Principal("operator", Role.OPERATOR, tenant),
        secret=settings.resolved_jwt_secret(),
        issuer=settings.jwt_issuer,
        ttl_seconds=600,
    )
    headers = {"Authorization": f"Bearer {token}"}
    found: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + 120
    while len(found) < len(msg_ids) and time.monotonic() < deadline:
        for msg_id in msg_ids:
            if msg_id in found:
                continue
            response = await client.get(f"/tenants/{tenant}/evaluations/{msg_id}", headers=headers)
            if response.status_code == 200:
                found[msg_id] = response.json()
            else:
                assert response.status_code == 404, response.text
        await asyncio.sleep(0.2)
    assert len(found) == len(msg_ids), f"{len(msg_ids) - len(found)} never evaluated"
    return found


@pytest.fixture
async def api(processes: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real API, with a kiosk clock skew of SKEW_S: the hold on kiosks after a loss of
    their nonces lasts one skew, and the tests wait it out."""
    app: FastAPI = create_app(processes.model_copy(update={"kiosk_clock_skew_s": SKEW_S}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://saku.test", timeout=30
        ) as client:
            yield client


async def _equal(count: Awaitable[int], expected: int) -> bool:
    return await count == expected


async def stream_run(
    processes: Settings, pool: Pool, valkey: redis.Redis, api: httpx.AsyncClient, *, flush: bool
) -> tuple[dict[str, dict[str, Any]], int, int]:
    """The bank's stream into a fresh tenant: the pacs.008s, then their pacs.002s (which
    are evaluated). Returns the decisions by message id, how many pacs.002s found their
    data cached when they were sent, and how many flushes ran."""
    tenant = await bank_tenant(pool)
    payments = bank_stream(tenant)
    async with contextlib.AsyncExitStack() as stack:
        flushes = await stack.enter_async_context(flushing(valkey)) if flush else [0]
        await produce(processes, [credit for credit, _ in payments])

        async def all_stored() -> bool:
            return await stored(pool, tenant) == PAYMENTS

        assert await eventually(all_stored, timeout=60)
        keys = [_cache_key(tenant, f"e2e-{i:03d}") for i in range(PAYMENTS)]

        async def cached_count() -> int:
            return sum(value is not None for value in await valkey.mget(keys))

        if flush:
            await valkey.flushall()  # and no pacs.008 is stored after this point
        else:  # the consumer caches a batch's data just after its commit: wait for that
            assert await eventually(lambda: _equal(cached_count(), PAYMENTS), timeout=10)
        cached = await cached_count()
        await produce(processes, [status for _, status in payments])
        found = await evaluations(api, processes, tenant, [f"p2-{i:03d}" for i in range(PAYMENTS)])
        return {m: decision(e) for m, e in found.items()}, cached, flushes[0]


async def test_the_stream_decides_the_same_with_valkey_flushed_throughout(
    processes: Settings, pool: Pool, valkey: redis.Redis, api: httpx.AsyncClient
) -> None:
    warm, warm_cached, _ = await stream_run(processes, pool, valkey, api, flush=False)
    flushed, flushed_cached, flushes = await stream_run(processes, pool, valkey, api, flush=True)

    # the control read every pacs.002's data from the cache; the flushed run could not
    assert warm_cached == PAYMENTS
    assert flushed_cached == 0 and flushes > 10
    assert flushed == warm
    # the decisions vary, so features rebuilt wrong would show
    assert len({json.dumps(d, sort_keys=True) for d in warm.values()}) > 5
    assert {d["status"] for d in warm.values()} == {"ALRT", "NALT"}


# --- kiosk payments ------------------------------------------------------------------------


async def evaluated_message(pool: Pool, evaluation_id: str) -> str:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT msg_id FROM evaluations WHERE evaluation_id = %s", (evaluation_id,)
        )
        row = await cur.fetchone()
    assert row is not None
    return str(row["msg_id"])


async def pay_until_answered(world: World, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """A kiosk payment, asked again (signed anew, same transaction id) after each 503 once
    its Retry-After has passed; the receipt, and how often the kiosk was held."""
    held = 0
    while True:
        response = await world.pay_raw(body)
        if response.status_code != 503:
            assert response.status_code == 200, response.text
            return response.json(), held
        held += 1
        await asyncio.sleep(int(response.headers["Retry-After"]))


async def kiosk_run(
    processes: Settings, pool: Pool, valkey: redis.Redis, api: httpx.AsyncClient, *, flush: bool
) -> tuple[list[dict[str, Any]], int]:
    """One school's morning: three students topped up, one with a daily limit and one with
    sugary drinks blocked, then 18 purchases by fingerprint (signed, each with its nonce).
    With `flush`, Valkey is flushed throughout the top-ups and controls, and again before
    every sixth purchase. Returns each purchase's receipt and its evaluation's decision, in
    order, and how often the kiosk was held."""
    world: World = await build_world(processes, pool, api)
    students = [await world.student() for _ in range(3)]
    rng = random.Random(7)
    async with contextlib.AsyncExitStack() as stack:
        flushes = await stack.enter_async_context(flushing(valkey)) if flush else [0]
        for student in students:
            await world.top_up(student, "120000", topup_id=f"bank-{student}")
        limited = await api.put(
            f"/v1/students/{students[0]}/controls",
            json={"daily_limit": "40000"},
            headers=world.guardian(students[0]),
        )
        assert limited.status_code == 200, limited.text
        blocked = await api.put(
            f"/v1/students/{students[1]}/controls/categories/sugary-drinks",
            json={"blocked": True},
            headers=world.guardian(students[1]),
        )
        assert blocked.status_code == 200, blocked.text
        assert not flush or flushes[0] > 0
    operator = world.token(Role.OPERATOR)
    out, held = [], 0
    for i in range(18):
        if flush and i % 6 == 0:
            await valkey.flushall()
        student = students[i % 3]
        body = {
            "kiosk_tx_id": f"tx-{i:02d}",
            "student_id": student,
            "amount": rng.choice(["3000", "8000", "15000", "27000"]),
            "category_id": rng.choice(["snacks", "meals", "sugary-drinks"]),
            "sold_at": (NOW - timedelta(minutes=30) + timedelta(seconds=20 * i)).isoformat(),
        }
        receipt, waits = await pay_until_answered(world, body)
        held += waits
        evaluated = None
        if receipt["evaluation_id"]:
            msg_id = await evaluated_message(pool, receipt["evaluation_id"])
            response = await api.get(
                f"/tenants/{world.tenant}/evaluations/{msg_id}", headers=operator
            )
            assert response.status_code == 200, response.text
            evaluated = decision(response.json())
        out.append(
            {
                "student": students.index(student),
                "status": receipt["status"],
                "reason_code": receipt["reason_code"],
                "balance_after": receipt["balance_after"],
                "monitoring_status": receipt["monitoring_status"],
                "evaluation": evaluated,
            }
        )
    return out, held


async def test_kiosk_payments_decide_the_same_with_valkey_flushed_throughout(
    processes: Settings, pool: Pool, valkey: redis.Redis, api: httpx.AsyncClient
) -> None:
    warm, warm_held = await kiosk_run(processes, pool, valkey, api, flush=False)
    flushed, flushed_held = await kiosk_run(processes, pool, valkey, api, flush=True)

    assert flushed == warm
    # the kiosk, seen before the second and third flush, was held after each; never without
    assert warm_held == 0 and flushed_held >= 2
    # approvals and declines of both kinds, and evaluated purchases: the comparison means
    # something
    assert {p["status"] for p in warm} == {"approved", "declined"}
    assert sum(p["evaluation"] is not None for p in warm) >= 10


# --- kiosk nonces --------------------------------------------------------------------------

WHOAMI = "/v1/kiosk/whoami"


def signed_whoami(world: World, kiosk: Kiosk | None = None) -> dict[str, str]:
    kiosk = kiosk or world.kiosk
    return sign_request(kiosk.private_key, world.tenant, kiosk.id, kiosk.key_id, "GET", WHOAMI)


async def test_a_request_captured_before_valkey_lost_the_nonces_cannot_be_replayed(
    processes: Settings, pool: Pool, valkey: redis.Redis, api: httpx.AsyncClient
) -> None:
    """Nonces are lost with Valkey; a request accepted just before could then be sent again
    within the clock skew. The kiosks seen before the loss are held for one skew instead."""
    world = await build_world(processes, pool, api)
    captured = signed_whoami(world)
    assert (await api.get(WHOAMI, headers=captured)).status_code == 200
    replayed = await api.get(WHOAMI, headers=captured)
    assert replayed.status_code == 401 and "nonce already used" in replayed.text

    await valkey.flushall()
    replayed = await api.get(WHOAMI, headers=captured)
    assert replayed.status_code == 503, replayed.text
    assert "rebuilding after Valkey lost its data" in replayed.json()["detail"]
    # the kiosk's own new requests wait one skew at most, then pass
    fresh = await api.get(WHOAMI, headers=signed_whoami(world))
    assert fresh.status_code == 503
    wait = int(fresh.headers["Retry-After"])
    assert 1 <= wait <= SKEW_S + 1  # + 1: signed timestamps are whole seconds
    # a kiosk first seen after the loss is not held
    newcomer = await add_kiosk(world, f"kiosk-new-{uuid.uuid4().hex[:6]}")
    assert (await api.get(WHOAMI, headers=signed_whoami(world, newcomer))).status_code == 200

    await asyncio.sleep(wait)
    assert (await api.get(WHOAMI, headers=signed_whoami(world))).status_code == 200
    replayed = await api.get(WHOAMI, headers=captured)
    assert replayed.status_code == 401, replayed.text  # too old now, and its nonce is known
