"""What a kiosk keeps of Saku for selling offline: the caps and categories it was told last
and its school's display names, in its journal, so that a kiosk restarted without the
network still sells within caps, offers the school's categories and greets the child by
name. The roster is fetched only when Saku's version of it changes, and kept bounded.
(Saku's side is a stand-in here; tests/integration/test_kiosk_offline.py runs the real
one.)"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import httpx

from core.kiosk_signing import generate_key_pair
from devices.kiosk.agent import KioskAgent
from devices.kiosk.client import KioskClient, KioskIdentity
from devices.kiosk.journal import NAME_MAX, ROSTER_MAX, Journal
from devices.kiosk.sensor import Sensor
from devices.kiosk.slots import SlotMap

IDENTITY = KioskIdentity("t", "k", "key-1", generate_key_pair()[0])


class Saku:
    """Answers `config` and `roster`; `pay` finds Saku unreachable."""

    def __init__(self, names: list[tuple[str, str]]) -> None:
        self.names = names
        self.rosters_sent = 0
        self.reachable: bool | None = None

    @property
    def version(self) -> str:
        return f"v-{hash(tuple(self.names))}"

    async def config(self, unsynced: object = None) -> dict[str, Any]:
        return {
            "offline_student_cap": "25000",
            "offline_kiosk_cap": "1000000",
            "categories": [{"id": "meals", "name": "Meals"}],
            "restore_epoch": None,
            "roster_version": self.version,
        }

    async def roster(self) -> dict[str, Any]:
        self.rosters_sent += 1
        students = [{"id": i, "display_name": n} for i, n in self.names]
        return {"version": self.version, "students": students}

    async def pay(self, body: dict[str, Any]) -> dict[str, Any]:
        self.reachable = False
        raise httpx.ConnectError("network unreachable")


def an_agent(tmp_path: Path, saku: Saku) -> KioskAgent:
    return KioskAgent(
        cast(KioskClient, saku),
        Sensor("/dev/null"),
        SlotMap(tmp_path / "slots.sqlite"),
        Journal(tmp_path / "journal.sqlite", IDENTITY),
    )


async def test_a_kiosk_restarted_offline_sells_with_what_it_was_told(tmp_path: Path) -> None:
    saku = Saku([("stu-1", "Budi S."), ("stu-2", "Sari W.")])
    first = an_agent(tmp_path, saku)
    assert (first.caps, first.categories) == (None, None)  # never told: nothing to go on
    await first.refresh_config()

    again = an_agent(tmp_path, saku)  # the kiosk restarted, Saku unreachable
    assert again.caps == (Decimal(25000), Decimal(1000000))
    assert again.categories == [("meals", "Meals")]
    sold = await again.pay_with_student("stu-2", Decimal(5000), "qr", "meals")
    assert (sold.approved, sold.offline, sold.name) == (True, True, "Sari W.")
    over = await again.pay_with_student("stu-2", Decimal(25000), "qr")
    assert (over.approved, over.code, over.name) == (False, "offline_limit", "Sari W.")
    stranger = await again.pay_with_student("stu-9", Decimal(1000), "qr")
    assert (stranger.approved, stranger.name) == (True, None)  # sold, greeted without a name


async def test_a_kiosk_never_told_anything_refuses_offline_and_says_why(tmp_path: Path) -> None:
    agent = an_agent(tmp_path, Saku([]))
    refused = await agent.pay_with_student("stu-1", Decimal(1000), "qr")
    assert (refused.approved, refused.code) == (False, "offline_never_configured")
    assert agent.journal.pending() == []


async def test_the_roster_is_fetched_when_it_changes_and_replaced_whole(tmp_path: Path) -> None:
    saku = Saku([("stu-1", "Budi S."), ("stu-2", "Sari W.")])
    agent = an_agent(tmp_path, saku)
    await agent.refresh_config()
    await agent.refresh_config()
    assert saku.rosters_sent == 1  # the same version: not fetched again

    saku.names = [("stu-2", "Sari W.")]  # stu-1 left the school
    await agent.refresh_config()
    assert saku.rosters_sent == 2
    assert agent.journal.display_name("stu-1") is None
    assert agent.journal.display_name("stu-2") == "Sari W."


def test_the_roster_kept_is_bounded(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite", IDENTITY)
    names = [(f"stu-{n}", "x" * (NAME_MAX + 10)) for n in range(ROSTER_MAX + 5)]
    journal.replace_roster("v1", names)
    (kept,) = journal.db.execute("SELECT count(*) FROM roster").fetchone()
    assert kept == ROSTER_MAX
    assert journal.display_name("stu-0") == "x" * NAME_MAX
    assert journal.roster_version() == "v1"
    # nothing but the id and the name is kept
    columns = [row[1] for row in journal.db.execute("PRAGMA table_info(roster)")]
    assert columns == ["student_id", "display_name"]
