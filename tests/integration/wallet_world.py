"""A school set up through the real API for wallet tests: a tenant with the default
monitoring configuration, a school, a canteen, a kiosk with a registered signing key,
categories, students and their guardians."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from activities.accounts import create_tenant
from activities.monitoring.config_store import ConfigStore, import_bundle
from activities.monitoring.defaults import default_bundle
from core.db import Pool
from core.kiosk_signing import encode_public_key, generate_key_pair, sign_request
from core.security import Principal, Role, issue_token
from core.settings import Settings

PIN = "2468"  # every test student's kiosk PIN


@dataclass
class Kiosk:
    id: str
    key_id: str
    private_key: Ed25519PrivateKey


@dataclass
class World:
    settings: Settings
    client: httpx.AsyncClient
    tenant: str
    school: str
    merchant: str
    kiosk: Kiosk
    counter: list[int] = field(default_factory=lambda: [0])

    def token(
        self,
        role: Role,
        *,
        school: str | None = None,
        students: tuple[str, ...] = (),
        subject: str | None = None,
    ) -> dict[str, str]:
        principal = Principal(
            subject or f"{role.value}-{uuid.uuid4().hex[:6]}", role, self.tenant, school, students
        )
        token = issue_token(
            principal,
            secret=self.settings.resolved_jwt_secret(),
            issuer=self.settings.jwt_issuer,
            ttl_seconds=300,
        )
        return {"Authorization": f"Bearer {token}"}

    @property
    def admin(self) -> dict[str, str]:
        return self.token(Role.ADMIN)

    async def post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
        response = await self.client.post(path, json=body, headers=headers)
        assert response.status_code in (200, 201), response.text
        return response.json()

    async def student(self, *, guardian_webhook: str | None = None) -> str:
        student = f"stu-{uuid.uuid4().hex[:8]}"
        await self.post(
            f"/v1/schools/{self.school}/students",
            {"id": student, "display_name": "Budi S.", "grade": "5", "pin": PIN},
            self.admin,
        )
        guardian = f"g-{student}"
        body: dict[str, Any] = {"id": guardian, "display_name": "Ibu Sari"}
        if guardian_webhook:
            body["webhook_url"] = guardian_webhook
        await self.post("/v1/guardians", body, self.admin)
        await self.post(f"/v1/guardians/{guardian}/students/{student}", {}, self.admin)
        return student

    def guardian(self, student: str) -> dict[str, str]:
        return self.token(Role.GUARDIAN, students=(student,))

    async def top_up(self, student: str, amount: str, topup_id: str | None = None) -> Any:
        body = {
            "topupId": topup_id or f"bank-{uuid.uuid4().hex[:10]}",
            "studentId": student,
            "amount": amount,
            "payerAccount": f"acct-{student}",
            "payerName": "Ibu Sari",
        }
        return await self.post("/v1/topups", body, self.token(Role.INTEGRATION))

    def kiosk_tx(self) -> str:
        self.counter[0] += 1
        return f"tx-{uuid.uuid4().hex[:6]}-{self.counter[0]}"

    async def pay_raw(
        self, body: dict[str, Any], kiosk: Kiosk | None = None, **sign: Any
    ) -> httpx.Response:
        kiosk = kiosk or self.kiosk
        content = json.dumps(body).encode()
        headers = sign_request(
            kiosk.private_key,
            self.tenant,
            kiosk.id,
            kiosk.key_id,
            "POST",
            "/v1/kiosk/payments",
            content,
            **sign,
        )
        headers["Content-Type"] = "application/json"
        return await self.client.post("/v1/kiosk/payments", content=content, headers=headers)

    async def pay(
        self, student: str, amount: str, *, tx: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        body = {"kiosk_tx_id": tx or self.kiosk_tx(), "student_id": student, "amount": amount}
        response = await self.pay_raw(body | extra)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def balance(self, student: str) -> str:
        response = await self.client.get(
            f"/v1/students/{student}/wallet", headers=self.guardian(student)
        )
        assert response.status_code == 200, response.text
        return str(response.json()["balance"])


async def build_world(
    settings: Settings,
    pool: Pool,
    client: httpx.AsyncClient,
    *,
    bundle: dict[str, Any] | None = None,
) -> World:
    tag = uuid.uuid4().hex[:8]
    tenant = f"sch-{tag}"
    async with pool.connection() as conn:
        await create_tenant(conn, tenant, "Yayasan Pendidikan")
    await import_bundle(ConfigStore(pool), tenant, bundle or default_bundle())
    world = World(
        settings,
        client,
        tenant,
        f"sd-{tag}",
        f"kantin-{tag}",
        Kiosk("", "", generate_key_pair()[0]),
    )
    admin = world.admin
    # canteen open all day, so tests at any hour are inside canteen hours
    await world.post(
        "/v1/schools",
        {
            "id": world.school,
            "name": "SD Negeri 1",
            "canteen_opens": "00:00",
            "canteen_closes": "23:59",
        },
        admin,
    )
    await world.post(
        f"/v1/schools/{world.school}/merchants",
        {"id": world.merchant, "name": "Kantin Bu Tini"},
        admin,
    )
    world.kiosk = await add_kiosk(world, f"kiosk-{tag}")
    for category, name in (
        ("sugary-drinks", "Sugary drinks"),
        ("snacks", "Snacks"),
        ("meals", "Meals"),
    ):
        await world.post("/v1/categories", {"id": category, "name": name}, admin)
    return world


async def add_kiosk(world: World, kiosk_id: str) -> Kiosk:
    await world.post(
        f"/v1/schools/{world.school}/kiosks",
        {"id": kiosk_id, "merchant_id": world.merchant, "name": "Till"},
        world.admin,
    )
    private_key, public_key = generate_key_pair()
    created = await world.post(
        f"/v1/schools/{world.school}/kiosks/{kiosk_id}/keys",
        {"public_key": encode_public_key(public_key)},
        world.admin,
    )
    return Kiosk(kiosk_id, created["key_id"], private_key)


def now_ms() -> int:
    return int(time.time() * 1000)
