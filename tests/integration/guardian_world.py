"""A family for the guardian portal's tests: a school set up through the real API
(wallet_world), a guardian who signs in with a password and looks after two children with
money in their wallets, and another family's child next door; and sales a kiosk makes
while it cannot reach Saku, synced when it can again."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx

from activities.accounts import create_user
from core.db import Pool
from core.security import Role
from core.settings import Settings
from devices.kiosk.agent import KioskAgent
from devices.kiosk.client import KioskClient, KioskIdentity
from devices.kiosk.journal import Journal
from devices.kiosk.link import Link
from devices.kiosk.sensor import Sensor
from devices.kiosk.slots import SlotMap
from tests.integration.case_world import PASSWORD
from tests.integration.wallet_world import PIN, World, build_world
from tests.stackutil import eventually

__all__ = ["PASSWORD", "Family", "family", "sold_offline"]


@dataclass(frozen=True)
class Family:
    world: World
    username: str  # the guardian's sign-in
    guardian_id: str
    children: tuple[str, str]  # Budi, Sari
    stranger: str  # another guardian's child, same school


async def family(settings: Settings, pool: Pool, client: httpx.AsyncClient) -> Family:
    world = await build_world(settings, pool, client)
    tag = uuid.uuid4().hex[:8]
    username = f"ibu-{tag}"
    async with pool.connection() as conn:
        user = await create_user(
            conn, tenant_id=world.tenant, username=username, password=PASSWORD, role=Role.GUARDIAN
        )
    guardian = f"g-{tag}"
    admin = world.admin
    await world.post(
        "/v1/guardians", {"id": guardian, "display_name": "Ibu Sari", "user_id": user.id}, admin
    )
    children = []
    for name in ("Budi", "Sari"):
        student = f"{name.lower()}-{tag}"
        await world.post(
            f"/v1/schools/{world.school}/students",
            {"id": student, "display_name": name, "grade": "5", "pin": PIN},
            admin,
        )
        await world.post(f"/v1/guardians/{guardian}/students/{student}", {}, admin)
        await world.top_up(student, "50000")
        children.append(student)
    stranger = await world.student()
    await world.top_up(stranger, "20000")
    return Family(world, username, guardian, (children[0], children[1]), stranger)


async def sold_offline(
    world: World, pool: Pool, student: str, amounts: list[str], folder: Path
) -> list[str]:
    """The world's kiosk sells to `student` by PIN while it cannot reach Saku (into its
    signed journal, within its offline caps), then reconnects and syncs the journal; once
    Saku has recorded every sale: their kiosk transaction ids. The kiosk keeps its files in
    `folder` (an existing one)."""
    network = Link(world.client._transport)
    identity = KioskIdentity(
        world.tenant, world.kiosk.id, world.kiosk.key_id, world.kiosk.private_key
    )
    http = httpx.AsyncClient(transport=network, base_url="http://saku.test")
    till = KioskAgent(
        KioskClient(http, identity),
        Sensor("/dev/null"),  # sales by PIN: the sensor is not used
        SlotMap(folder / "slots.sqlite"),
        Journal(folder / "journal.sqlite", identity),
    )
    await till.refresh_config()
    network.down = True
    for amount in amounts:
        sold = await till.pay_with_student(student, Decimal(amount), "pin", pin=PIN)
        assert sold.approved and sold.offline, sold
    sales = [str(e["kiosk_tx_id"]) for e in till.journal.pending()]
    network.down = False
    try:
        assert await till.sync_offline() == len(amounts)
    finally:
        await http.aclose()

    async def recorded() -> bool:
        async with pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT count(*) AS n FROM payments WHERE tenant_id = %s AND kiosk_id = %s "
                    "AND kiosk_tx_id = ANY(%s)",
                    (world.tenant, world.kiosk.id, sales),
                )
            ).fetchone()
        return row is not None and row["n"] == len(sales)

    assert await eventually(recorded, timeout=30)
    return sales
