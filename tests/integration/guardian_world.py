"""A family for the guardian portal's tests: a school set up through the real API
(wallet_world), a guardian who signs in with a password and looks after two children with
money in their wallets, and another family's child next door."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

from activities.accounts import create_user
from core.db import Pool
from core.security import Role
from core.settings import Settings
from tests.integration.case_world import PASSWORD
from tests.integration.wallet_world import PIN, World, build_world

__all__ = ["PASSWORD", "Family", "family"]


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
