"""A school for the school office's tests (tests/integration/wallet_world.py's, through the
real API), with a staff member who signs in, a student enrolled by fingerprint, and the
bank's side of the payouts topics: its requests, and its answers."""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from typing import Any

import httpx
import redis.asyncio as redis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from activities.accounts import create_user
from activities.web_sessions import WebSessions
from api.web.pages import SESSION_COOKIE
from core import topics
from core.db import Pool
from core.kiosk_signing import sign_request
from core.security import Principal, Role
from core.settings import Settings
from tests.integration.wallet_world import Kiosk, World
from tests.stackutil import eventually

PASSWORD = "kantor sekolah 2026 rahasia"


async def staff_user(pool: Pool, world: World, school: str | None = None) -> str:
    """A school_staff user of the world's school (or `school`) who signs in: their name."""
    username = f"staff-{uuid.uuid4().hex[:8]}"
    async with pool.connection() as conn:
        await create_user(
            conn,
            tenant_id=world.tenant,
            username=username,
            password=PASSWORD,
            role=Role.SCHOOL_STAFF,
            school_id=school or world.school,
        )
    return username


async def staff_session(
    client: httpx.AsyncClient, settings: Settings, world: World, school: str | None = None
) -> Principal:
    """`client` carries a page session of a staff member of the school: their principal."""
    principal = Principal(
        f"staff-{uuid.uuid4().hex[:6]}",
        Role.SCHOOL_STAFF,
        world.tenant,
        world.school if school is None else school,
    )
    valkey = redis.from_url(settings.resolved_valkey_url())
    try:
        session_id, _ = await WebSessions(valkey, 600).create(principal, "staff-ani")
    finally:
        await valkey.aclose()
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, session_id)
    return principal


def template() -> bytes:
    half = bytes([0x03, 0x01]) + os.urandom(126) + bytes(128)
    return half + bytes([0x03, 0x01]) + os.urandom(126) + bytes(128)


async def signed(
    world: World, kiosk: Kiosk, method: str, path: str, body: Any = None
) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    headers = sign_request(
        kiosk.private_key, world.tenant, kiosk.id, kiosk.key_id, method, path, content
    )
    headers["Content-Type"] = "application/json"
    return await world.client.request(method, path, content=content, headers=headers)


async def enrol(world: World, student: str) -> None:
    """The guardian consents (recorded by staff) and the kiosk enrols a finger."""
    staff = world.token(Role.SCHOOL_STAFF, school=world.school)
    consent = await world.client.post(
        f"/v1/students/{student}/biometrics/consent",
        json={"party": f"guardian:g-{student}", "decision": "consent"},
        headers=staff,
    )
    assert consent.status_code == 200, consent.text
    enrolment = {
        "student_id": student,
        "finger": 1,
        "operator_id": "staff-ani",
        "template": base64.b64encode(template()).decode(),
    }
    enrolled = await signed(world, world.kiosk, "POST", "/v1/kiosk/enrolments", enrolment)
    assert enrolled.status_code == 202, enrolled.text


async def fingers(world: World, student: str) -> list[int]:
    staff = world.token(Role.SCHOOL_STAFF, school=world.school)
    found = await world.client.get(f"/v1/students/{student}/biometrics", headers=staff)
    assert found.status_code == 200, found.text
    return list(found.json()["fingers"])


async def payout_requests(settings: Settings, payout_id: str, timeout: float = 20) -> list[Any]:
    """What the bank reads on the payouts topic about this payout (waits for one)."""
    consumer = AIOKafkaConsumer(
        settings.topic(topics.PAYOUTS.name),
        bootstrap_servers=settings.resolved_kafka_bootstrap(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    found: list[Any] = []
    try:

        async def arrived() -> bool:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    if record.key == payout_id.encode():
                        found.append(json.loads(record.value or b"{}"))
            return bool(found)

        assert await eventually(arrived, timeout=timeout), "no payout request on the topic"
    finally:
        await consumer.stop()
    return found


async def answer_payouts(settings: Settings, *answers: bytes, key: bytes) -> None:
    """The bank's answers on the payout-results topic, in this order (one key: one
    partition, so the consumer reads them in the order sent)."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.resolved_kafka_bootstrap())
    await producer.start()
    try:
        for answer in answers:
            await producer.send_and_wait(
                settings.topic(topics.PAYOUT_RESULTS.name), answer, key=key
            )
    finally:
        await producer.stop()


async def leaves(world: World, student: str, guardian: str | None = None) -> str:
    """The student leaves through the API: their payout's id."""
    body = {"status": "left", "reason": "moved away"} | (
        {"guardian_id": guardian} if guardian else {}
    )
    left = await world.client.put(
        f"/v1/schools/{world.school}/students/{student}/status",
        json=body,
        headers=world.token(Role.SCHOOL_STAFF, school=world.school),
    )
    assert left.status_code == 200, left.text
    return str(left.json()["payout"]["id"])


def answer(tenant: str, payout_id: str, outcome: str, **more: str) -> bytes:
    body = {"payoutId": payout_id, "tenantId": tenant, "outcome": outcome} | more
    return json.dumps(body).encode()


async def dead_letters(settings: Settings, count: int, timeout: float = 30) -> dict[bytes, str]:
    """At least `count` records of the dead-letter topic (or what came within `timeout`):
    each original value with its reason."""
    consumer = AIOKafkaConsumer(
        settings.topic(topics.DEAD_LETTER.name),
        bootstrap_servers=settings.resolved_kafka_bootstrap(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    found: dict[bytes, str] = {}
    try:
        deadline = time.monotonic() + timeout
        while len(found) < count and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    found[record.value or b""] = dict(record.headers)["saku-reason"].decode()
    finally:
        await consumer.stop()
    return found
