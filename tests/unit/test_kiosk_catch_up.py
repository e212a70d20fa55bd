"""The kiosk agent after a restore of Saku's database: it asks about its synced sales only
when Saku reports a restore it has not caught up with, at most 1,000 ids a request, and
marks the sales Saku lacks unsynced so that the next sync sends them again. (Saku's side is
a stand-in here; tests/integration/test_dr_nothing_lost.py runs the real one.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from core.kiosk_signing import generate_key_pair
from devices.kiosk.agent import CHECK_PAGE, KioskAgent
from devices.kiosk.client import KioskClient, KioskIdentity
from devices.kiosk.journal import Journal
from devices.kiosk.sensor import Sensor
from devices.kiosk.slots import SlotMap


class Saku:
    """Answers `config` and `missing_sales` as a restored Saku would."""

    def __init__(self, holds: set[str], epoch: str | None) -> None:
        self.holds = holds
        self.epoch = epoch
        self.asked: list[int] = []  # ids per request

    async def config(self, unsynced: object = None) -> dict[str, Any]:
        return {
            "offline_student_cap": "25000",
            "offline_kiosk_cap": "1000000",
            "restore_epoch": self.epoch,
        }

    async def missing_sales(self, kiosk_tx_ids: list[str]) -> list[str]:
        self.asked.append(len(kiosk_tx_ids))
        return [t for t in kiosk_tx_ids if t not in self.holds]


def an_agent(tmp_path: Path, saku: Saku, synced: int) -> KioskAgent:
    identity = KioskIdentity("t", "k", "key-1", generate_key_pair()[0])
    journal = Journal(tmp_path / "journal.sqlite", identity)
    for n in range(synced):
        journal.record({"kiosk_tx_id": f"tx-{n}", "student_id": "s", "amount": "1000"})
    journal.mark_synced([f"tx-{n}" for n in range(synced)])
    client = cast(KioskClient, saku)
    return KioskAgent(client, Sensor("/dev/null"), SlotMap(tmp_path / "slots.sqlite"), journal)


async def test_a_new_restore_epoch_resends_exactly_the_sales_saku_lost(tmp_path: Path) -> None:
    synced = 2 * CHECK_PAGE + 500
    lost = {f"tx-{n}" for n in (7, CHECK_PAGE + 3, synced - 1)}
    saku = Saku({f"tx-{n}" for n in range(synced)} - lost, epoch=None)
    agent = an_agent(tmp_path, saku, synced)

    await agent.refresh_config()
    assert await agent.catch_up_after_restore() == 0  # never restored: nothing asked
    assert saku.asked == []

    saku.epoch = "epoch-1"
    await agent.refresh_config()
    assert await agent.catch_up_after_restore() == len(lost)
    assert saku.asked == [CHECK_PAGE, CHECK_PAGE, 500]  # bounded requests
    assert {e["kiosk_tx_id"] for e in agent.journal.pending()} == lost

    saku.asked.clear()
    assert await agent.catch_up_after_restore() == 0  # caught up with this epoch
    assert saku.asked == []
    # the journal remembers it: a restarted agent does not ask again either
    again = KioskAgent(
        agent.client,
        agent.sensor,
        agent.slots,
        Journal(tmp_path / "journal.sqlite", agent.journal.identity),
    )
    await again.refresh_config()
    assert await again.catch_up_after_restore() == 0
    assert saku.asked == []
