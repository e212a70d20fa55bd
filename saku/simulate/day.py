"""A canteen day, phase by phase, against a running Saku (API, worker, consumer) and its
Kafka: enrolment at the kiosks' simulated sensors, the bank's morning top-ups, a lunch rush
across the kiosks by fingerprint and PIN, a few fraud patterns, a wing of the school losing
its network (two kiosks sell offline, one student buys at both) and syncing afterwards, and
at the end of the day a student leaving (their balance paid back to a guardian by the
bank)."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer
from temporalio.client import Client

from activities.wallet.office import SchoolOffice
from activities.wallet.payouts import Payouts
from api.starters.leaving import student_leaves
from core import topics
from core.db import Pool
from core.security import Principal, Role
from core.settings import Settings
from devices.kiosk.agent import KioskAgent, Outcome
from devices.kiosk.client import KioskClient
from devices.kiosk.journal import Journal
from devices.kiosk.link import Link
from devices.kiosk.sensor import Sensor
from devices.kiosk.slots import SlotMap
from devices.sensor.simulator import SensorSimulator
from saku.simulate.school import PIN, School, Student

PRICES = {
    "meals": (8_000, 12_000, 15_000),
    "snacks": (2_000, 3_500, 5_000),
    "drinks": (3_000, 4_000),
    "sugary-drinks": (5_000, 7_000),
}


@dataclass
class Till:
    agent: KioskAgent
    sensor: SensorSimulator
    link: Link
    lock: asyncio.Lock  # one sensor, one child at a time


@dataclass
class DayOptions:
    payments: int = 400
    rate: float = 8.0  # payments per second over the whole canteen at the rush
    enrol: int = 120  # students enrolled at the kiosks this morning (of those who consent)


Say = Callable[[str], None]


class CanteenDay:
    def __init__(
        self, settings: Settings, school: School, folder: Path, rng: random.Random, say: Say
    ) -> None:
        self.settings = settings
        self.school = school
        self.folder = folder
        self.rng = rng
        self.say = say
        self.tills: list[Till] = []
        self.enrolled: set[str] = set()
        self.outcomes: list[Outcome] = []

    async def open_kiosks(self, http: httpx.AsyncBaseTransport, base_url: str) -> None:
        for identity in self.school.kiosks:
            sensor = SensorSimulator(seed=self.rng.randrange(1 << 30)).start()
            link = Link(http)
            client = KioskClient(
                httpx.AsyncClient(transport=link, base_url=base_url, timeout=30), identity
            )
            folder = self.folder / identity.kiosk_id
            folder.mkdir(parents=True, exist_ok=True)
            agent = KioskAgent(
                client,
                Sensor(sensor.port, finger_wait_s=2),
                SlotMap(folder / "slots.sqlite"),
                Journal(folder / "journal.sqlite", identity),
            )
            await agent.refresh_config()
            self.tills.append(Till(agent, sensor, link, asyncio.Lock()))

    def close_kiosks(self) -> None:
        for till in self.tills:
            till.sensor.stop()

    async def enrolment(self, count: int) -> None:
        """Each consenting child puts a finger on a kiosk's sensor twice, with staff there."""
        chosen = [s for s in self.school.students if s.consent][:count]
        self.say(f"enrolment: {len(chosen)} students put a finger on a kiosk's sensor")

        async def enrol(till: Till, students: list[Student]) -> None:
            for student in students:
                till.sensor.place_finger(student.finger)
                await till.agent.enrol(student.id, 2, "staff-office")
                till.sensor.remove_finger()
                self.enrolled.add(student.id)

        await asyncio.gather(
            *(enrol(t, chosen[i :: len(self.tills)]) for i, t in enumerate(self.tills))
        )
        loaded = await asyncio.gather(*(t.agent.sync_sensor() for t in self.tills))
        self.say(f"  every kiosk loaded the templates into its sensor: {loaded}")

    async def morning_topups(self) -> int:
        producer = AIOKafkaProducer(bootstrap_servers=self.settings.resolved_kafka_bootstrap())
        await producer.start()
        try:
            for student in self.school.students:
                event = {
                    "topupId": f"bank-{self.school.tenant}-{student.id}",
                    "tenantId": self.school.tenant,
                    "studentId": student.id,
                    "amount": str(self.rng.choice((20_000, 30_000, 50_000, 75_000))),
                    "currency": "IDR",
                    "payerAccount": f"bca-{student.id}",
                    "payerName": f"Guardian of {student.name}",
                }
                await producer.send(
                    self.settings.topic(topics.TOPUPS.name), json.dumps(event).encode()
                )
            await producer.flush()
        finally:
            await producer.stop()
        self.say(f"morning top-ups: {len(self.school.students)} events on the bank's stream")
        return len(self.school.students)

    def _purchase(self) -> tuple[Student, str, Decimal]:
        student = self.rng.choice(self.school.students)
        category = self.rng.choice(list(PRICES))
        return student, category, Decimal(self.rng.choice(PRICES[category]))

    async def _serve(self, till: Till, student: Student, category: str, amount: Decimal) -> None:
        async with till.lock:
            if student.id in self.enrolled and self.rng.random() < 0.95:
                till.sensor.place_finger(student.finger)
                outcome = await till.agent.pay_by_fingerprint(amount, category)
                till.sensor.remove_finger()
                if outcome.fallback:  # not recognised: the QR card
                    outcome = await till.agent.pay_with_student(student.id, amount, "qr", category)
            elif student.consent:
                outcome = await till.agent.pay_with_student(student.id, amount, "qr", category)
            else:
                outcome = await till.agent.pay_with_student(
                    student.id, amount, "pin", category, pin=PIN
                )
        self.outcomes.append(outcome)

    async def lunch_rush(self, options: DayOptions, progress: Callable[[], Awaitable[str]]) -> None:
        self.say(
            f"lunch rush: {options.payments} purchases at ~{options.rate:g}/s "
            f"across {len(self.tills)} kiosks"
        )
        began, tasks, last = time.monotonic(), [], time.monotonic()
        outage = range(options.payments // 2, options.payments // 2 + options.payments // 5)
        wing = self.tills[1:]  # the kiosks in the wing that loses its network
        evader = next(s for s in self.school.students if s.daily_limit is None and not s.blocked)
        for i in range(options.payments):
            if i == outage.start:
                for till in wing:
                    till.link.down = True
                self.say("  the east wing loses its network: kiosks 2 and 3 sell offline")
                # the cap evader buys at both offline kiosks (each within its own cap)
                for till in wing:
                    tasks.append(
                        asyncio.create_task(self._serve(till, evader, "meals", Decimal(15_000)))
                    )
            if i == outage.stop:
                for till in wing:
                    till.link.down = False
                self.say("  the network is back")
            student, category, amount = self._purchase()
            till = self.rng.choice(self.tills)
            tasks.append(asyncio.create_task(self._serve(till, student, category, amount)))
            delay = began + (i + 1) / options.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if time.monotonic() - last > 5:
                self.say("  " + await progress())
                last = time.monotonic()
        await asyncio.gather(*tasks)

    async def sync(self) -> int:
        sent = sum(await asyncio.gather(*(t.agent.sync_offline() for t in self.tills)))
        self.say(f"back online: {sent} offline sales sent for replay")
        return sent

    async def a_student_leaves(self, pool: Pool, temporal: Client) -> str | None:
        """Staff mark a student as leaving, as the school office does (the same starter):
        one who has money left, is not the family signing in to the portal, and has no
        fingerprints to erase from kiosks that are closed for the day. The payout's id."""
        tenant, school = self.school.tenant, self.school.school_id
        office = SchoolOffice(pool)
        family = set(self.school.guardian.children)
        for student in reversed(self.school.students):
            if student.id in family or student.id in self.enrolled:
                continue
            found = await office.student(tenant, school, student.id)
            if found is not None and found.status == "active" and found.balance > 0:
                break
        else:
            self.say("nobody leaves today: no student with money left to pay back")
            return None
        staff = Principal("staff-simulator", Role.SCHOOL_STAFF, tenant, school)
        leaving = await student_leaves(
            temporal,
            self.settings.task_queue,
            Payouts(pool),
            staff,
            school,
            student.id,
            "moving to another city",
        )
        self.say(
            f"a student leaves: {student.name} ({student.id}); their {found.balance:,.0f} IDR "
            "goes back to their guardian through the bank"
        )
        return leaving.payout.id if leaving.payout else None
