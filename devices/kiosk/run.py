"""One kiosk, as deployed: the agent on its sensor, its screen on localhost, and in the
background the sensor kept in step with Saku and the offline journal synced when Saku
answers again (sales a restore of Saku's database lost included)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.applications import Starlette

from devices.kiosk.agent import KioskAgent
from devices.kiosk.client import KioskClient, KioskIdentity, SakuError
from devices.kiosk.journal import Journal
from devices.kiosk.screen import create_screen
from devices.kiosk.sensor import Sensor
from devices.kiosk.slots import SlotMap

log = logging.getLogger(__name__)
SYNC_EVERY_S = 10.0


@dataclass(frozen=True)
class KioskSetup:
    tenant: str
    kiosk_id: str
    key_id: str
    key_file: Path  # the kiosk's Ed25519 private key: 32 raw bytes, mode 0600
    sensor_port: str
    saku_url: str
    data_dir: Path  # the slot map and the offline journal


def load_identity(setup: KioskSetup) -> KioskIdentity:
    raw = setup.key_file.read_bytes()
    if len(raw) != 32:
        raise ValueError(f"{setup.key_file} must hold the 32-byte Ed25519 private key")
    key = Ed25519PrivateKey.from_private_bytes(raw)
    return KioskIdentity(setup.tenant, setup.kiosk_id, setup.key_id, key)


def build_kiosk(
    setup: KioskSetup,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    sync_every_s: float = SYNC_EVERY_S,
) -> Starlette:
    """The screen app; its lifespan runs the background sync against Saku (every
    `sync_every_s`, which is also how soon the screen notices Saku gone or back)."""
    identity = load_identity(setup)
    setup.data_dir.mkdir(parents=True, exist_ok=True)
    http = httpx.AsyncClient(base_url=setup.saku_url, transport=transport, timeout=15)
    agent = KioskAgent(
        KioskClient(http, identity),
        Sensor(setup.sensor_port),
        SlotMap(setup.data_dir / "slots.sqlite"),
        Journal(setup.data_dir / "journal.sqlite", identity),
    )

    async def keep_in_step() -> None:
        while True:
            try:
                await agent.refresh_config()
                await agent.catch_up_after_restore()  # before the sync: it resends the lost
                await agent.sync_offline()
                await agent.sync_sensor()
            except (httpx.TransportError, SakuError) as err:  # offline: sell within caps
                log.warning("Saku unreachable, the kiosk sells offline", extra={"reason": str(err)})
            await asyncio.sleep(sync_every_s)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(keep_in_step())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await http.aclose()

    screen = create_screen(agent)
    screen.router.lifespan_context = lifespan
    return screen
