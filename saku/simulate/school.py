"""The school of `saku simulate`: a fresh tenant with the default monitoring configuration,
one school, its canteen and kiosks (each with a signing key), students and guardians, the
consent each family gave, PINs for the students paying without a fingerprint, and some
guardian controls."""

from __future__ import annotations

import random
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal

from activities.accounts import create_tenant, create_user
from activities.biometrics.consents import Consents
from activities.monitoring.config_store import ConfigStore, import_bundle
from activities.monitoring.defaults import default_bundle
from activities.wallet.directory import CategoryControl, Controls, Directory
from activities.wallet.kiosk_keys import KioskKeys
from activities.wallet.portal import AutoTopUp, Portal
from core.biometrics.consent import Decision
from core.db import Pool
from core.kiosk_signing import generate_key_pair
from core.security import Principal, Role
from devices.kiosk.client import KioskIdentity

FIRST_NAMES = (
    "Budi",
    "Siti",
    "Agus",
    "Dewi",
    "Rizki",
    "Putri",
    "Fajar",
    "Ayu",
    "Bayu",
    "Intan",
    "Dimas",
    "Nadia",
    "Eko",
    "Sari",
    "Galih",
    "Wulan",
    "Hendra",
    "Lestari",
    "Joko",
    "Rina",
)
INITIALS = "ABCDEFGHIJKLMNOPRSTUWY"
CATEGORIES = {
    "meals": "Meals",
    "snacks": "Snacks",
    "drinks": "Drinks",
    "sugary-drinks": "Sugary drinks",
}
PIN = "1357"  # the simulated students' PIN (real ones choose their own)


@dataclass
class Student:
    id: str
    name: str
    finger: str  # the simulated finger this student enrols and pays with
    consent: bool  # one guardian consented and nobody objected or refused
    daily_limit: Decimal | None = None
    blocked: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GuardianSignIn:
    """A guardian who signs in to the portal: the parent of the first two students."""

    username: str
    password: str
    children: tuple[str, str]


@dataclass
class School:
    tenant: str
    school_id: str
    kiosks: list[KioskIdentity]
    students: list[Student]
    guardian: GuardianSignIn

    def by_id(self, student_id: str) -> Student:
        return next(s for s in self.students if s.id == student_id)


async def set_up_school(pool: Pool, students: int, kiosks: int, rng: random.Random) -> School:
    tenant = f"sim-{uuid.uuid4().hex[:6]}"
    async with pool.connection() as conn:
        await create_tenant(conn, tenant, "Yayasan Harapan (simulated)")
    await import_bundle(ConfigStore(pool), tenant, default_bundle())
    directory, keys, consents = Directory(pool), KioskKeys(pool), Consents(pool)
    school = "sdn-harapan"
    # canteen open all day, so the simulation looks the same whenever it is run
    await directory.create_school(
        tenant, school, "SD Negeri Harapan", canteen_opens=time(0, 0), canteen_closes=time(23, 59)
    )
    await directory.create_merchant(tenant, school, "kantin", "Kantin Bu Tini")
    for category, name in CATEGORIES.items():
        await directory.create_category(tenant, category, name)
    admin = Principal("simulator", Role.ADMIN, tenant)
    identities = []
    for number in range(1, kiosks + 1):
        kiosk = f"kiosk-{number}"
        await directory.create_kiosk(tenant, school, "kantin", kiosk, f"Till {number}")
        private_key, public_key = generate_key_pair()
        key_id = await keys.register(tenant, kiosk, public_key, admin)
        identities.append(KioskIdentity(tenant, kiosk, key_id, private_key))
    # the family a newcomer signs in as: its password is made here, for this run only
    username, password = f"wali-{tenant}", secrets.token_urlsafe(12)
    async with pool.connection() as conn:
        portal_user = await create_user(
            conn, tenant_id=tenant, username=username, password=password, role=Role.GUARDIAN
        )
    people = []
    for number in range(students):
        student = Student(
            id=f"stu-{number:04d}",
            name=f"{rng.choice(FIRST_NAMES)} {rng.choice(INITIALS)}.",
            finger=f"{tenant}-finger-{number}",
            consent=rng.random() < 0.8,
        )
        people.append(student)
        # students without a fingerprint pay by PIN: a full user, not a lesser one
        await directory.create_student(
            tenant,
            school,
            student.id,
            student.name,
            grade=str(1 + number % 6),
            pin=None if student.consent else PIN,
        )
        guardian = f"g-{number:04d}"
        if number == 1:  # the second student is the first one's sibling: one family
            guardian = "g-0000"
        else:
            user_id = portal_user.id if number == 0 else None
            await directory.create_guardian(
                tenant, guardian, f"Guardian of {student.name}", user_id=user_id
            )
        await directory.link_guardian(tenant, guardian, student.id)
        if student.consent:
            await consents.record(
                tenant, student.id, f"guardian:{guardian}", Decision.CONSENT, "school-office"
            )
        elif rng.random() < 0.5:
            await consents.record(
                tenant, student.id, f"guardian:{guardian}", Decision.OBJECT, "school-office"
            )
        if rng.random() < 0.25:
            student.daily_limit = Decimal(rng.choice((10_000, 15_000, 20_000)))
            await directory.set_controls(
                tenant, student.id, Controls(daily_limit=student.daily_limit), guardian
            )
        if rng.random() < 0.15:
            student.blocked.append("sugary-drinks")
            await directory.set_category_control(
                tenant, student.id, CategoryControl("sugary-drinks", blocked=True)
            )
    # the family's first child tops up automatically: below 20,000 the bank is asked for
    # 50,000 (answered by the simulated bank, saku/simulate/bank.py)
    await Portal(pool, Decimal(2_000_000)).set_auto_topup(
        tenant,
        people[0].id,
        AutoTopUp(Decimal(20_000), Decimal(50_000)),
        "g-0000",
        Role.GUARDIAN.value,
    )
    family = GuardianSignIn(username, password, (people[0].id, people[1].id))
    return School(tenant, school, identities, people, family)


async def staff_sign_in(pool: Pool, school: School) -> tuple[str, str]:
    """A school office user of the simulated school, for a newcomer to click through the day
    with: (username, a fresh random password)."""
    username, password = f"staff-{school.tenant}", secrets.token_urlsafe(12)
    async with pool.connection() as conn:
        await create_user(
            conn,
            tenant_id=school.tenant,
            username=username,
            password=password,
            role=Role.SCHOOL_STAFF,
            school_id=school.school_id,
        )
    return username, password
