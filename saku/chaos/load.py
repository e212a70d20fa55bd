"""The mixed load, as Saku's real clients send it, each operation recorded in the tally:
- the bank's ISO 20022 stream on Kafka (each payment's four messages, keyed by end-to-end
  id, from the stream benchmark's generator and producer);
- the bank's top-ups on Kafka, and over HTTP (asked again with the same id until answered);
- kiosks paying over HTTP, signed, through the real kiosk agent: a sale Saku does not
  answer goes into the kiosk's signed offline journal, replayed when Saku answers again;
- one kiosk with a poor link, selling offline all the time and replaying its journal
  every few seconds.
Every kiosk reaches Saku through a link the harness can cut (the kiosks' network fault).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from core import topics
from core.security import Principal, Role, issue_token
from core.settings import Settings
from devices.kiosk.agent import OFFLINE_LIMIT, KioskAgent
from devices.kiosk.client import KioskClient, KioskIdentity, SakuError
from devices.kiosk.journal import Journal
from devices.kiosk.link import Link
from devices.kiosk.sensor import Sensor
from devices.kiosk.slots import SlotMap
from saku.bench.kiosk import CATEGORIES, BenchKiosk
from saku.bench.stream import LoadProducer, encode_payments, realistic_payment
from saku.chaos.tally import KIOSK, OFFLINE, STREAM, TOPUP_HTTP, TOPUP_KAFKA, Tally

PRICES = (2000, 3500, 5000, 7500, 10000, 12000)
TOPUPS = (5000, 10000, 20000)
SYNC_EVERY_S = 3.0  # how often a kiosk with unsynced sales tries to replay them
HTTP_RETRY_S = 45.0  # how long a client keeps asking again with the same id


@dataclass(frozen=True)
class Rates:
    """Operations per second of each kind."""

    stream: float = 10.0  # payments (4 records each)
    topups_kafka: float = 3.0
    topups_http: float = 2.0
    kiosk: float = 1.5  # per kiosk with a working link
    offline: float = 1.0  # the kiosk with a poor link


class TrackedKioskClient(KioskClient):
    """The kiosk agent's client, recording each sale in the tally: sent, and acknowledged
    with the decision (online) or by the journal upload's 202 (offline)."""

    def __init__(self, http: httpx.AsyncClient, identity: KioskIdentity, tally: Tally) -> None:
        super().__init__(http, identity)
        self.tally = tally

    def _key(self, tx: object) -> str:
        return f"{self.identity.kiosk_id}:{tx}"

    def _failed(self, what: str, err: SakuError) -> None:
        if err.status >= 500:
            self.tally.server_error(err.status)
        else:
            self.tally.refused(f"{what}: {err}")

    async def pay(self, body: dict[str, Any]) -> dict[str, Any]:
        op = self.tally.add(KIOSK, self._key(body["kiosk_tx_id"]))
        try:
            receipt = await super().pay(body)
        except SakuError as err:
            self._failed(f"kiosk payment {op.key}", err)
            raise
        op.acked, op.answer = True, str(receipt["status"])
        return receipt

    async def offline_sales(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        ops = []
        for entry in entries:
            key = self._key(entry["kiosk_tx_id"])
            op = self.tally.find(OFFLINE, key) or self.tally.add(OFFLINE, key)
            op.kind = OFFLINE
            ops.append(op)
        try:
            accepted = await super().offline_sales(entries)
        except SakuError as err:
            self._failed(f"offline sales of {self.identity.kiosk_id}", err)
            raise
        for op in ops:
            op.acked = True
        return accepted


@dataclass
class Till:
    agent: KioskAgent
    link: Link
    http: httpx.AsyncClient
    poor_link: bool
    last_sync: float = 0.0

    async def try_sync(self) -> None:
        # Saku not answering: the journal keeps the sales for next time
        with contextlib.suppress(httpx.TransportError, SakuError):
            await self.agent.sync_offline()
        self.last_sync = time.monotonic()


class Load:
    def __init__(
        self,
        settings: Settings,
        tally: Tally,
        tenant: str,
        kiosks: list[BenchKiosk],
        students: list[str],
        rates: Rates,
        seed: int = 23,
    ) -> None:
        self.settings = settings
        self.tally = tally
        self.tenant = tenant
        self.students = students
        self.rates = rates
        self.rng = random.Random(seed)
        self.producer = LoadProducer(settings, quiet=True)
        self.api_url = f"http://{settings.api_host}:{settings.api_port}"
        self.http = httpx.AsyncClient(base_url=self.api_url, timeout=15)
        token = issue_token(
            Principal("chaos-bank", Role.INTEGRATION, tenant),
            secret=settings.resolved_jwt_secret(),
            issuer=settings.jwt_issuer,
            ttl_seconds=24 * 3600,
        )
        self.bank_headers = {"Authorization": f"Bearer {token}"}
        self.tills = [self._till(k, poor_link=i == len(kiosks) - 1) for i, k in enumerate(kiosks)]
        self.cut = False  # every kiosk's link is down
        self.in_flight: set[asyncio.Task[None]] = set()

    def _till(self, kiosk: BenchKiosk, poor_link: bool) -> Till:
        identity = KioskIdentity(self.tenant, kiosk.id, kiosk.key_id, kiosk.private_key)
        link = Link(httpx.AsyncHTTPTransport())
        http = httpx.AsyncClient(transport=link, base_url=self.api_url, timeout=15)
        folder = Path(self.settings.var_dir) / "chaos-kiosks" / kiosk.id
        folder.mkdir(parents=True, exist_ok=True)
        agent = KioskAgent(
            TrackedKioskClient(http, identity, self.tally),
            Sensor("/dev/null"),  # sales by QR card: the sensor is not used
            SlotMap(folder / "slots.sqlite"),
            Journal(folder / "journal.sqlite", identity),
        )
        return Till(agent, link, http, poor_link)

    async def open(self) -> None:
        """Each kiosk learns its offline caps (a kiosk never sells offline without them)."""
        for till in self.tills:
            await till.agent.refresh_config()

    async def close(self) -> None:
        await self.http.aclose()
        for till in self.tills:
            await till.http.aclose()

    # --- the load ------------------------------------------------------------------------

    def run(self, stop: asyncio.Event) -> list[asyncio.Task[None]]:
        loops = [
            self._every(self.rates.stream, stop, self._stream_payment),
            self._every(self.rates.topups_kafka, stop, self._kafka_topup),
            self._every(self.rates.topups_http, stop, self._http_topup),
            self._deliveries(stop),
            *(self._kiosk(till, stop) for till in self.tills),
        ]
        return [asyncio.create_task(loop) for loop in loops]

    async def _every(self, rate: float, stop: asyncio.Event, one: Any) -> None:
        """Open loop: `one()` at `rate` per second, whatever earlier ones are doing."""
        began, n = time.monotonic(), 0
        while not stop.is_set() and rate > 0:
            one()
            n += 1
            await _sleep_until(began + n / rate, stop)

    async def _deliveries(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.producer.serve_delivery_reports()
            await asyncio.sleep(0.02)

    def _stream_payment(self) -> None:
        payment = realistic_payment(self.rng, self.tenant, 200, datetime.now(UTC))
        [encoded] = encode_payments([payment])
        op = self.tally.add(STREAM, encoded.status_report_id, parts=len(encoded.records))
        for key, value in encoded.records:
            self.producer.send(
                self.settings.topic(topics.TRANSACTIONS.name), key, value, op.delivered
            )

    def _topup(self) -> dict[str, str]:
        return {
            "topupId": f"chaos-{uuid.uuid4().hex[:16]}",
            "studentId": self.rng.choice(self.students),
            "amount": str(self.rng.choice(TOPUPS)),
            "payerAccount": "bca-0123456789",
            "payerName": "Ibu Sari",
        }

    def _kafka_topup(self) -> None:
        event = self._topup() | {
            "tenantId": self.tenant,
            "currency": "IDR",
            "createdAt": datetime.now(UTC).isoformat(),
        }
        op = self.tally.add(TOPUP_KAFKA, event["topupId"])
        self.producer.send(
            self.settings.topic(topics.TOPUPS.name),
            event["studentId"].encode(),
            json.dumps(event).encode(),
            op.delivered,
        )

    def _http_topup(self) -> None:
        task = asyncio.create_task(self._ask_until_answered(self._topup()))
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)

    async def _ask_until_answered(self, body: dict[str, str]) -> None:
        """As a bank's gateway does: ask again with the same id until Saku answers."""
        op = self.tally.add(TOPUP_HTTP, body["topupId"])
        deadline = time.monotonic() + HTTP_RETRY_S
        while True:
            try:
                response = await self.http.post("/v1/topups", json=body, headers=self.bank_headers)
                if response.is_success:
                    op.acked, op.answer = True, str(response.json()["status"])
                    return
                if response.status_code >= 500:
                    self.tally.server_error(response.status_code)
                elif response.status_code != 429:
                    self.tally.refused(f"top-up {op.key}: HTTP {response.status_code}")
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                return
            await asyncio.sleep(0.5)

    async def _kiosk(self, till: Till, stop: asyncio.Event) -> None:
        """One child at a time at the till; a poor link is up only to replay the journal."""
        rate = self.rates.offline if till.poor_link else self.rates.kiosk
        while not stop.is_set() and rate > 0:
            till.link.down = self.cut or till.poor_link
            began = time.monotonic()
            outcome = await till.agent.pay_with_student(
                self.rng.choice(self.students),
                Decimal(self.rng.choice(PRICES)),
                "qr",
                self.rng.choice(CATEGORIES),
            )
            if outcome.message == OFFLINE_LIMIT:
                self.tally.refused(f"{till.agent.client.identity.kiosk_id}: {OFFLINE_LIMIT}")
            if not self.cut and time.monotonic() - till.last_sync > SYNC_EVERY_S:
                till.link.down = False
                if till.agent.journal.pending():
                    await till.try_sync()
            await _sleep_until(began + 1 / rate, stop)

    # --- after the load ------------------------------------------------------------------

    async def settle(self, timeout: float) -> None:
        """Wait for the answers still due: Kafka acknowledgements, HTTP clients still asking,
        and every kiosk's journal replayed (links up)."""
        deadline = time.monotonic() + timeout
        await self.producer.wait_delivered(timeout)
        self.producer.serve_delivery_reports()
        if self.in_flight:
            await asyncio.wait(set(self.in_flight), timeout=max(0.0, deadline - time.monotonic()))
        for till in self.tills:
            till.link.down = False
            while till.agent.journal.pending() and time.monotonic() < deadline:
                await till.try_sync()
                if till.agent.journal.pending():
                    await asyncio.sleep(1)

    def set_cut(self, cut: bool) -> None:
        self.cut = cut
        for till in self.tills:
            till.link.down = cut or till.poor_link


async def _sleep_until(moment: float, stop: asyncio.Event) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
