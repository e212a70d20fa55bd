"""Offline: a kiosk loses Saku, sells within its caps into a signed journal, reconnects;
every sale is posted once, a sale the wallet cannot cover becomes debt (guardians told),
a sale Saku already had is ignored, and cap evasion across two kiosks raises an alert."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from activities.wallet.directory import Directory
from activities.wallet.ledger import Ledger
from core.db import Pool
from core.settings import Settings
from devices.kiosk.agent import KioskAgent
from devices.kiosk.client import KioskClient, KioskIdentity, SakuError
from devices.kiosk.journal import Journal
from devices.kiosk.link import Link
from devices.kiosk.sensor import Sensor
from devices.kiosk.slots import SlotMap
from tests.integration.wallet_world import PIN, Kiosk, World, add_kiosk, build_world
from tests.stackutil import eventually

pytestmark = pytest.mark.integration


def agent(world: World, kiosk: Kiosk, network: Link, tmp_path: Path) -> KioskAgent:
    identity = KioskIdentity(world.tenant, kiosk.id, kiosk.key_id, kiosk.private_key)
    http = httpx.AsyncClient(transport=network, base_url="http://saku.test")
    folder = tmp_path / kiosk.id
    folder.mkdir()
    return KioskAgent(
        KioskClient(http, identity),
        Sensor("/dev/null"),  # these sales are by PIN: the sensor is not used
        SlotMap(folder / "slots.sqlite"),
        Journal(folder / "journal.sqlite", identity),
    )


async def payment(pool: Pool, tenant: str, kiosk: str, tx: str) -> dict[str, object] | None:
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "SELECT p.status, p.debt, p.offline, e.status AS monitoring FROM payments p "
                "LEFT JOIN evaluations e ON e.tenant_id = p.tenant_id "
                "AND e.evaluation_id::text = p.evaluation_id "
                "WHERE p.tenant_id = %s AND p.kiosk_id = %s AND p.kiosk_tx_id = %s",
                (tenant, kiosk, tx),
            )
        ).fetchone()
    return None if row is None else dict(row)


async def test_offline_sales_replay_once_with_debt_and_a_cap_evasion_alert(
    stack: Settings, pool: Pool, client: httpx.AsyncClient, temporal: Client, tmp_path: Path
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student(guardian_webhook="https://guardian-app.example/hooks")
    await world.top_up(student, "30000")
    second = await add_kiosk(world, f"{world.kiosk.id}-b")
    network = Link(client._transport)
    till_a = agent(world, world.kiosk, network, tmp_path)
    till_b = agent(world, second, network, tmp_path)
    for till in (till_a, till_b):
        await till.refresh_config()  # caps: 25,000 a student a day, 1,000,000 a kiosk

    online = await till_a.pay_with_student(student, Decimal(5000), "pin", pin=PIN)
    assert online.approved and not online.offline

    network.down = True
    a1 = await till_a.pay_with_student(student, Decimal(15000), "pin", pin=PIN)
    a2 = await till_a.pay_with_student(student, Decimal(10000), "pin", pin=PIN)
    refused = await till_a.pay_with_student(
        student, Decimal(1000), "pin", pin=PIN
    )  # A's cap reached
    b1 = await till_b.pay_with_student(student, Decimal(20000), "qr")  # B knows nothing of A
    assert [o.approved for o in (a1, a2, refused, b1)] == [True, True, False, True]
    assert all(o.offline for o in (a1, a2, b1))
    assert "Offline limit" in refused.message

    network.down = False
    assert await till_a.sync_offline() == 2
    assert await till_b.sync_offline() == 1
    assert await till_b.sync_offline() == 0  # nothing left to send
    [a1_tx, a2_tx], [b1_tx] = _all(till_a), _all(till_b)
    sold = [(world.kiosk.id, a1_tx), (world.kiosk.id, a2_tx), (second.id, b1_tx)]

    async def all_posted() -> bool:
        found = [await payment(pool, world.tenant, k, t) for k, t in sold]
        return all(f is not None for f in found)

    await eventually(all_posted, timeout=30)
    # 30,000 - 5,000 online = 25,000 left for 45,000 of offline sales: 20,000 becomes debt
    # (the kiosks' replays run side by side, so which sale falls short may vary)
    replayed = [await payment(pool, world.tenant, k, t) for k, t in sold]
    assert all(
        p is not None and (p["status"], p["offline"]) == ("approved", True) for p in replayed
    )
    assert sum(Decimal(str(p["debt"])) for p in replayed if p) == Decimal(20000)
    # 45,000 offline in a day across two kiosks, each within its own 25,000: evasion
    assert any(p["monitoring"] == "ALRT" for p in replayed if p)
    assert await world.balance(student) == "0.0000"
    assert await Ledger(pool).balance(world.tenant, f"debt:{student}") == Decimal(-20000)

    # each journal's workflow, once through, is found as synced
    async def offline_syncs(status: str = "") -> list[str]:
        query = f'SakuTenant = "{world.tenant}" AND SakuKind = "offline-sync"'
        query += f' AND SakuStatus = "{status}"' if status else ""
        return sorted([w.id async for w in temporal.list_workflows(query)])

    async def both_synced() -> bool:  # one journal per kiosk
        started = await offline_syncs()
        return len(started) == 2 and await offline_syncs("synced") == started

    assert await eventually(both_synced, timeout=20), await offline_syncs("synced")

    # the same journal again (a kiosk that crashed before marking it synced): ignored
    resent = await till_b.client.offline_sales(_entries(till_b))
    assert resent["accepted"] == 1
    async with pool.connection() as conn:
        posted = await (
            await conn.execute(
                "SELECT count(*) AS n FROM postings WHERE tenant_id = %s AND idempotency_key = %s",
                (world.tenant, f"kiosk:{second.id}:{b1_tx}"),
            )
        ).fetchone()
        notices = await (
            await conn.execute(
                "SELECT kind FROM notification_outbox WHERE tenant_id = %s AND kind = "
                "'offline_debt'",
                (world.tenant,),
            )
        ).fetchall()
    assert posted is not None and posted["n"] == 1
    assert 1 <= len(notices) <= 2  # once per sale that fell short

    # the next top-up pays the debt first
    repaid = await world.top_up(student, "50000")
    assert repaid["balance_after"] == "30000.0000"
    assert await Ledger(pool).balance(world.tenant, f"debt:{student}") == 0


def _entries(till: KioskAgent) -> list[dict[str, object]]:
    rows = till.journal.db.execute("SELECT entry FROM sales ORDER BY rowid").fetchall()
    return [json.loads(r[0]) for r in rows]


def _all(till: KioskAgent) -> list[str]:
    return [str(e["kiosk_tx_id"]) for e in _entries(till)]


async def test_a_tampered_journal_entry_is_refused(
    stack: Settings, pool: Pool, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student()
    network = Link(client._transport)
    till = agent(world, world.kiosk, network, tmp_path)
    await till.refresh_config()
    network.down = True
    assert (await till.pay_with_student(student, Decimal(5000), "pin", pin=PIN)).approved
    network.down = False
    [entry] = till.journal.pending()
    entry["amount"] = "500"  # someone edits the kiosk's disk
    response = await world.client.post(
        "/v1/kiosk/offline-sales", json={"sales": [entry]}, headers={}
    )
    assert response.status_code == 401  # unsigned upload: refused before anything else
    with pytest.raises(SakuError, match="journal signature does not verify"):
        await till.client.offline_sales([entry])


async def test_the_kiosk_keeps_its_schools_names_to_greet_children_offline(
    stack: Settings, pool: Pool, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Only the kiosk's own school's active students, display names only; fetched again when
    the roster changes, and a sale made offline carries the child's name."""
    world = await build_world(stack, pool, client)
    student = await world.student()
    leaver = await world.student()
    other_school = f"{world.school}-b"
    await world.post("/v1/schools", {"id": other_school, "name": "SD Negeri 2"}, world.admin)
    elsewhere = "stu-elsewhere"
    await world.post(
        f"/v1/schools/{other_school}/students",
        {"id": elsewhere, "display_name": "Dewi K.", "grade": "4"},
        world.admin,
    )
    network = Link(client._transport)
    till = agent(world, world.kiosk, network, tmp_path)
    await till.refresh_config()
    config = await till.client.config()
    roster = await till.client.roster()
    assert roster["version"] == config["roster_version"] == till.journal.roster_version()
    assert sorted(roster["students"], key=lambda s: s["id"]) == sorted(
        [{"id": s, "display_name": "Budi S."} for s in (student, leaver)],
        key=lambda s: s["id"],
    )
    assert till.journal.display_name(elsewhere) is None

    await Directory(pool).set_student_status(world.tenant, leaver, "left")
    await till.refresh_config()
    assert till.journal.roster_version() != roster["version"]
    assert till.journal.display_name(leaver) is None  # dropped at the next sync
    assert till.journal.display_name(student) == "Budi S."

    network.down = True
    sold = await till.pay_with_student(student, Decimal(3000), "qr")
    assert (sold.approved, sold.offline, sold.name) == (True, True, "Budi S.")
