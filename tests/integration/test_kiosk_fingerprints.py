"""End to end with a simulated sensor: unmodified pyfingerprint enrols a finger through the
kiosk agent, the student pays with that finger, and after erasure no copy of the template
decrypts and no kiosk sensor matches that finger any more."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from activities.biometrics.keyring import KeyRing
from activities.biometrics.vault import TemplateVault, VaultError
from core.biometrics.types import erase_workflow_id
from core.db import Pool
from core.security import Role
from core.settings import Settings
from devices.kiosk.agent import KioskAgent
from devices.kiosk.client import KioskClient, KioskIdentity
from devices.kiosk.journal import Journal
from devices.kiosk.run import KioskSetup, build_kiosk
from devices.kiosk.screen import LANGUAGE_COOKIE, create_screen
from devices.kiosk.sensor import Sensor
from devices.kiosk.slots import SlotMap
from devices.sensor.simulator import SensorSimulator
from tests.integration.wallet_world import PIN, World, build_world
from tests.stackutil import eventually

pytestmark = pytest.mark.integration
FINGER = "siti-right-index"


@pytest.fixture
def simulator() -> Iterator[SensorSimulator]:
    with SensorSimulator(seed=5) as sensor:
        yield sensor


def agent_for(world: World, simulator: SensorSimulator, tmp_path: Path) -> KioskAgent:
    kiosk = world.kiosk
    identity = KioskIdentity(world.tenant, kiosk.id, kiosk.key_id, kiosk.private_key)
    return KioskAgent(
        KioskClient(world.client, identity),
        Sensor(simulator.port, finger_wait_s=2),
        SlotMap(tmp_path / "slots.sqlite"),
        Journal(tmp_path / "journal.sqlite", identity),
    )


async def test_enrol_pay_and_erase_with_a_simulated_sensor(
    stack: Settings,
    pool: Pool,
    client: httpx.AsyncClient,
    temporal: Client,
    simulator: SensorSimulator,
    tmp_path: Path,
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student()
    await world.top_up(student, "25000")
    staff = world.token(Role.SCHOOL_STAFF, school=world.school)
    consent = {"party": f"guardian:g-{student}", "decision": "consent"}
    path = f"/v1/students/{student}/biometrics"
    assert (await world.client.post(f"{path}/consent", json=consent, headers=staff)).json()[
        "allowed"
    ]
    agent = agent_for(world, simulator, tmp_path)

    simulator.place_finger(FINGER)
    await agent.enrol(student, 7, "staff-ani")
    simulator.remove_finger()
    assert await agent.sync_sensor() == 1  # this kiosk loads the new template too
    assert len(simulator.stored_slots()) == 1

    simulator.place_finger(FINGER)
    paid = await agent.pay_by_fingerprint(Decimal(4000), "meals")
    assert paid.approved, paid.message
    assert paid.student_id == student
    assert paid.receipt is not None and paid.receipt["balance_after"] == "21000.0000"

    simulator.place_finger("someone-else")
    stranger = await agent.pay_by_fingerprint(Decimal(4000))
    assert (stranger.approved, stranger.fallback) == (False, True)
    assert await world.balance(student) == "21000.0000"

    # PIN / QR fallback: the same student, named rather than matched
    pin = await agent.pay_with_student(student, Decimal(1000), "pin", pin=PIN)
    assert pin.approved

    withdraw = {"party": f"guardian:g-{student}", "decision": "withdraw"}
    assert (
        await world.client.post(f"{path}/consent", json=withdraw, headers=staff)
    ).status_code == 200
    vault = TemplateVault(pool, KeyRing.load(stack.resolved_kek_file(), create=False))

    async def erased_at_rest() -> bool:
        return await vault.fingers(world.tenant, student) == []

    await eventually(erased_at_rest, timeout=20)
    with pytest.raises(VaultError):
        await vault.open(world.tenant, student, 7)
    assert await agent.sync_sensor() == 1  # the delete
    assert simulator.stored_slots() == {}

    async def erasure_finished() -> bool:
        handle = temporal.get_workflow_handle(erase_workflow_id(world.tenant, student))
        described = await handle.describe()
        return described.status is not None and described.status.name == "COMPLETED"

    await eventually(erasure_finished, timeout=20)
    simulator.place_finger(FINGER)
    after = await agent.pay_by_fingerprint(Decimal(1000))
    assert not after.approved and after.fallback  # the sensor no longer knows this finger


async def test_a_silent_sensor_offers_the_pin_instead(
    stack: Settings,
    pool: Pool,
    client: httpx.AsyncClient,
    simulator: SensorSimulator,
    tmp_path: Path,
) -> None:
    world = await build_world(stack, pool, client)
    agent = agent_for(world, simulator, tmp_path)
    simulator.unplug()
    outcome = await agent.pay_by_fingerprint(Decimal(1000))
    assert (outcome.approved, outcome.fallback) == (False, True)
    assert "PIN" in outcome.message


async def test_the_kiosk_screen_shows_approved_or_declined_with_the_reason(
    stack: Settings,
    pool: Pool,
    client: httpx.AsyncClient,
    simulator: SensorSimulator,
    tmp_path: Path,
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student()
    await world.top_up(student, "5000")
    agent = agent_for(world, simulator, tmp_path)
    transport = httpx.ASGITransport(app=create_screen(agent))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1", cookies={LANGUAGE_COOKIE: "en"}
    ) as screen:
        ready = await screen.get("/")
        assert "Ready." in ready.text
        found = re.search(r'name="csrf" value="([^"]+)"', ready.text)
        assert found is not None
        csrf = found[1]
        simulator.place_finger("nobody-enrolled")
        unknown = await screen.post(
            "/pay", data={"csrf": csrf, "amount": "3.000", "method": "fingerprint"}
        )
        assert unknown.status_code == 402 and "not recognised" in unknown.text
        wrong = await screen.post(
            "/pay",
            data={
                "csrf": csrf,
                "amount": "3000",
                "method": "pin",
                "student": student,
                "pin": "9999",
            },
        )
        assert "Declined" in wrong.text and "Wrong PIN" in wrong.text
        paid = await screen.post(
            "/pay",
            data={
                "csrf": csrf,
                "amount": "3000",
                "method": "pin",
                "student": student,
                "pin": PIN,
                "category": "snacks",
            },
        )
        assert paid.status_code == 200 and "Approved" in paid.text
        assert "Thank you, Budi S.!" in paid.text  # the name from the kiosk's receipt
        poor = await screen.post(
            "/pay",
            data={"csrf": csrf, "amount": "3000", "method": "pin", "student": student, "pin": PIN},
        )
        assert "Not enough money in your wallet." in poor.text
        no_staff = await screen.post(
            "/pay", data={"csrf": csrf, "amount": "1000", "method": "override", "student": student}
        )
        assert "needs the staff member" in no_staff.text
        assert (await screen.get("/status")).json()["state"] == "declined"


async def test_verify_mode_compares_with_one_template_and_keeps_nothing_on_the_sensor(
    stack: Settings,
    pool: Pool,
    client: httpx.AsyncClient,
    simulator: SensorSimulator,
    tmp_path: Path,
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student()
    await world.top_up(student, "8000")
    staff = world.token(Role.SCHOOL_STAFF, school=world.school)
    await world.client.post(
        f"/v1/students/{student}/biometrics/consent",
        json={"party": f"guardian:g-{student}", "decision": "consent"},
        headers=staff,
    )
    agent = agent_for(world, simulator, tmp_path)
    simulator.place_finger(FINGER)
    await agent.enrol(student, 3, "staff-ani")  # no sync: this kiosk works in verify mode

    paid = await agent.pay_by_verification(student, Decimal(2000))
    assert paid.approved, paid.message
    simulator.place_finger("an-impostor")
    impostor = await agent.pay_by_verification(student, Decimal(2000))
    assert (impostor.approved, impostor.fallback) == (False, True)
    assert simulator.stored_slots() == {}  # nothing stayed in the sensor's library
    # the staff member vouches for the child instead
    vouched = await agent.pay_with_student(student, Decimal(1000), "override", operator="ani")
    assert vouched.approved and vouched.receipt is not None
    assert await world.balance(student) == "5000.0000"

    other = await world.student()  # no consent: no templates for anyone to compare with
    refused = await agent.pay_by_verification(other, Decimal(1000))
    assert refused.fallback and "no guardian has consented" in refused.message


async def test_a_deployed_kiosk_keeps_its_sensor_in_step_and_serves_its_screen(
    stack: Settings,
    pool: Pool,
    client: httpx.AsyncClient,
    simulator: SensorSimulator,
    tmp_path: Path,
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student()
    staff = world.token(Role.SCHOOL_STAFF, school=world.school)
    await world.client.post(
        f"/v1/students/{student}/biometrics/consent",
        json={"party": f"guardian:g-{student}", "decision": "consent"},
        headers=staff,
    )
    simulator.place_finger(FINGER)
    await agent_for(world, simulator, tmp_path).enrol(student, 4, "staff-ani")
    key_file = tmp_path / "kiosk.key"
    key_file.write_bytes(world.kiosk.private_key.private_bytes_raw())
    key_file.chmod(0o600)
    setup = KioskSetup(
        world.tenant,
        world.kiosk.id,
        world.kiosk.key_id,
        key_file,
        simulator.port,
        "http://saku.test",
        tmp_path / "deployed",
    )
    app = build_kiosk(setup, transport=client._transport)
    async with app.router.lifespan_context(app):

        async def loaded() -> bool:
            return len(simulator.stored_slots()) == 1  # the background sync loaded it

        await eventually(loaded, timeout=20)
        screen = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://127.0.0.1",
            cookies={LANGUAGE_COOKIE: "en"},
        )
        async with screen:
            assert "Ready." in (await screen.get("/")).text
