"""A real enrolment and payment by fingerprint, then a search for the template everywhere it
must not be: any database row in plaintext, any log record, any Kafka record, the workflow
histories. It may only exist encrypted (and inside the kiosk's sensor)."""

from __future__ import annotations

import base64
import logging
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from temporalio.client import Client

from activities.biometrics.keyring import KeyRing
from activities.biometrics.vault import TemplateVault
from core import topics
from core.biometrics.types import TemplateRef, load_workflow_id
from core.db import Pool
from core.logs import JsonFormatter
from core.security import Role
from core.settings import Settings
from devices.sensor.simulator import SensorSimulator
from tests.integration.test_kiosk_fingerprints import agent_for
from tests.integration.wallet_world import build_world

pytestmark = pytest.mark.integration


def traces(template: bytes) -> list[str]:
    """How the template (or a slice of it) would look if it leaked, in each encoding."""
    chunk = template[2:34]  # past the fixed 03 01 header
    return [chunk.hex(), base64.b64encode(template).decode()[:40], repr(chunk)[2:40]]


async def kafka_values(settings: Settings) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        *(settings.topic(t.name) for t in topics.ALL),
        bootstrap_servers=settings.resolved_kafka_bootstrap(),
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        while batch := await consumer.getmany(timeout_ms=1500):
            values += [r.value or b"" for rs in batch.values() for r in rs]
    finally:
        await consumer.stop()
    return values


async def test_the_template_is_nowhere_in_plaintext(
    stack: Settings,
    pool: Pool,
    client: httpx.AsyncClient,
    temporal: Client,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    world = await build_world(stack, pool, client)
    student = await world.student()
    await world.top_up(student, "10000")
    staff = world.token(Role.SCHOOL_STAFF, school=world.school)
    await world.client.post(
        f"/v1/students/{student}/biometrics/consent",
        json={"party": f"guardian:g-{student}", "decision": "consent"},
        headers=staff,
    )
    with SensorSimulator(seed=11) as simulator:
        agent = agent_for(world, simulator, tmp_path)
        simulator.place_finger("dewi-left-index")
        await agent.enrol(student, 6, "staff-ani")
        await agent.sync_sensor()
        paid = await agent.pay_by_fingerprint(Decimal(2500))
    assert paid.approved and paid.receipt is not None
    vault = TemplateVault(pool, KeyRing.load(stack.resolved_kek_file(), create=False))
    template = await vault.open(world.tenant, student, 6)
    marks = traces(template)

    async with pool.connection() as conn:
        tables = [
            r["table_name"]
            for r in await (
                await conn.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
                )
            ).fetchall()
        ]
        for table in tables:
            for mark in marks:
                found = await (
                    await conn.execute(
                        f'SELECT count(*) AS n FROM "{table}" t WHERE t::text LIKE %s',
                        (f"%{mark}%",),
                    )
                ).fetchone()
                assert found is not None and found["n"] == 0, f"template in {table}"

    formatter = JsonFormatter()
    logged = "\n".join(formatter.format(r) for r in caplog.records)
    assert caplog.records  # the flow did log
    assert not any(mark in logged for mark in marks)

    # no part of the enrolment path writes to Kafka by design; every Saku topic is searched
    # anyway (alerts published by this session's evaluations among them)
    for value in await kafka_values(stack):
        assert not any(mark.encode() in value for mark in marks)
        assert template[2:34] not in value

    for workflow_id in (
        load_workflow_id(TemplateRef(world.tenant, student, 6)),
        paid.receipt["workflow_id"],
    ):
        history = (await temporal.get_workflow_handle(workflow_id).fetch_history()).to_json()
        assert not any(mark in history for mark in marks), workflow_id
