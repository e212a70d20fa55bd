"""Kiosk keys through the real API: register, sign, rotate, revoke; every refusal has a reason.

Each test gets a kiosk of its own in a tenant and school of this module's own, so tests do not
share keys or nonces.
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from activities.accounts import create_tenant
from activities.wallet.ledger import Ledger
from core.db import Pool
from core.kiosk_signing import (
    HEADER_NONCE,
    HEADER_SIGNATURE,
    encode_public_key,
    generate_key_pair,
    sign_request,
)
from core.security import Principal, Role, issue_token
from core.settings import Settings

pytestmark = pytest.mark.integration

WHOAMI = "/v1/kiosk/whoami"


@dataclass(frozen=True)
class Place:
    tenant: str
    school: str
    other_school: str
    merchant: str


@pytest.fixture(scope="module")
async def place(pool: Pool) -> Place:
    tag = uuid.uuid4().hex[:8]
    place = Place(f"t-kk-{tag}", f"school-{tag}", f"school2-{tag}", f"merchant-{tag}")
    account = f"acct-{place.merchant}"
    async with pool.connection() as conn:
        await create_tenant(conn, place.tenant, "Kiosk key tests")
        for school in (place.school, place.other_school):
            await conn.execute(
                "INSERT INTO schools (tenant_id, id, name) VALUES (%s, %s, %s)",
                (place.tenant, school, school),
            )
    await Ledger(pool).open_account(place.tenant, account, "merchant_settlement", place.merchant)
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO merchants (tenant_id, id, school_id, name, account_id) "
            "VALUES (%s, %s, %s, %s, %s)",
            (place.tenant, place.merchant, place.school, "Canteen", account),
        )
    return place


@pytest.fixture
async def kiosk(pool: Pool, place: Place) -> str:
    kiosk_id = f"kiosk-{uuid.uuid4().hex[:8]}"
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO kiosks (tenant_id, id, school_id, merchant_id, name) "
            "VALUES (%s, %s, %s, %s, %s)",
            (place.tenant, kiosk_id, place.school, place.merchant, "Till 1"),
        )
    return kiosk_id


def bearer(stack: Settings, place: Place, role: Role, school: str | None = None) -> dict[str, str]:
    principal = Principal(
        subject=f"user-{role.value}", role=role, tenant=place.tenant, school=school
    )
    token = issue_token(
        principal, secret=stack.resolved_jwt_secret(), issuer=stack.jwt_issuer, ttl_seconds=60
    )
    return {"Authorization": f"Bearer {token}"}


def keys_path(place: Place, kiosk_id: str, school: str | None = None) -> str:
    return f"/v1/schools/{school or place.school}/kiosks/{kiosk_id}/keys"


async def register(
    client: httpx.AsyncClient, stack: Settings, place: Place, kiosk_id: str
) -> tuple[Ed25519PrivateKey, str]:
    private_key, public_key = generate_key_pair()
    response = await client.post(
        keys_path(place, kiosk_id),
        headers=bearer(stack, place, Role.ADMIN),
        json={"public_key": encode_public_key(public_key)},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "current" and body["key_id"].startswith("k_")
    return private_key, str(body["key_id"])


async def rotate(
    client: httpx.AsyncClient, stack: Settings, place: Place, kiosk_id: str, grace_s: int
) -> tuple[Ed25519PrivateKey, str]:
    private_key, public_key = generate_key_pair()
    response = await client.post(
        keys_path(place, kiosk_id) + "/rotate",
        headers=bearer(stack, place, Role.SCHOOL_STAFF, place.school),
        json={"public_key": encode_public_key(public_key), "grace_s": grace_s},
    )
    assert response.status_code == 201, response.text
    return private_key, str(response.json()["key_id"])


async def whoami(
    client: httpx.AsyncClient,
    place: Place,
    kiosk_id: str,
    private_key: Ed25519PrivateKey,
    key_id: str,
    **overrides: Any,
) -> httpx.Response:
    headers = sign_request(private_key, place.tenant, kiosk_id, key_id, "GET", WHOAMI, **overrides)
    return await client.get(WHOAMI, headers=headers)


def refused(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 401, response.text
    detail = response.json()["detail"]
    assert detail.startswith("kiosk signature refused"), detail
    assert reason in detail, detail


async def test_a_signed_request_identifies_the_kiosk(
    client: httpx.AsyncClient, stack: Settings, place: Place, kiosk: str, pool: Pool
) -> None:
    private_key, key_id = await register(client, stack, place, kiosk)
    response = await whoami(client, place, kiosk, private_key, key_id)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "tenant": place.tenant,
        "kiosk_id": kiosk,
        "school_id": place.school,
        "merchant_id": place.merchant,
        "key_id": key_id,
    }
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT last_seen_at FROM kiosks WHERE tenant_id = %s AND id = %s",
            (place.tenant, kiosk),
        )
        row = await cur.fetchone()
    assert row is not None and row["last_seen_at"] is not None


async def test_signature_covers_the_query_and_body(
    client: httpx.AsyncClient, stack: Settings, place: Place, kiosk: str
) -> None:
    private_key, key_id = await register(client, stack, place, kiosk)
    path = WHOAMI + "?check=1"
    headers = sign_request(private_key, place.tenant, kiosk, key_id, "GET", path)
    assert (await client.get(path, headers=headers)).status_code == 200
    headers = sign_request(private_key, place.tenant, kiosk, key_id, "GET", path)
    refused(await client.get(WHOAMI + "?check=2", headers=headers), "bad signature")
    headers = sign_request(private_key, place.tenant, kiosk, key_id, "GET", WHOAMI, b"{}")
    refused(await client.request("GET", WHOAMI, headers=headers), "bad signature")


async def test_forged_and_wrong_key_signatures_are_refused(
    client: httpx.AsyncClient, stack: Settings, place: Place, kiosk: str
) -> None:
    private_key, key_id = await register(client, stack, place, kiosk)
    headers = sign_request(private_key, place.tenant, kiosk, key_id, "GET", WHOAMI)
    headers[HEADER_SIGNATURE] = base64.urlsafe_b64encode(bytes(64)).decode()
    refused(await client.get(WHOAMI, headers=headers), "bad signature")

    impostor, _ = generate_key_pair()
    refused(await whoami(client, place, kiosk, impostor, key_id), "bad signature")

    # another kiosk's valid key id does not lend this kiosk its identity
    refused(await whoami(client, place, kiosk, private_key, "k_000000000000"), "unknown key")
    refused(await whoami(client, place, "no-such-kiosk", private_key, key_id), "unknown kiosk")


async def test_a_replayed_nonce_is_refused(
    client: httpx.AsyncClient, stack: Settings, place: Place, kiosk: str, valkey: redis.Redis
) -> None:
    private_key, key_id = await register(client, stack, place, kiosk)
    headers = sign_request(private_key, place.tenant, kiosk, key_id, "GET", WHOAMI)
    assert (await client.get(WHOAMI, headers=headers)).status_code == 200
    refused(await client.get(WHOAMI, headers=headers), "nonce already used")
    # kept for twice the skew: past that, the timestamp check refuses the replay instead
    ttl = await valkey.ttl(f"saku:nonce:{place.tenant}:{kiosk}:{headers[HEADER_NONCE]}")
    assert 0 < ttl <= 2 * stack.kiosk_clock_skew_s


async def test_a_forged_request_does_not_burn_the_nonce(
    client: httpx.AsyncClient, stack: Settings, place: Place, kiosk: str
) -> None:
    private_key, key_id = await register(client, stack, place, kiosk)
    headers = sign_request(private_key, place.tenant, kiosk, key_id, "GET", WHOAMI)
    forged = headers | {HEADER_SIGNATURE: base64.urlsafe_b64encode(bytes(64)).decode()}
    refused(await client.get(WHOAMI, headers=forged), "bad signature")
    assert (await client.get(WHOAMI, headers=headers)).status_code == 200


async def test_stale_and_future_timestamps_are_refused(
    client: httpx.AsyncClient, stack: Settings, place: Place, kiosk: str
) -> None:
    private_key, key_id = await register(client, stack, place, kiosk)
    skew = stack.kiosk_clock_skew_s
    now = int(time.time())
    stale = await whoami(client, place, kiosk, private_key, key_id, timestamp=now - skew - 5)
    refused(stale, "old")
    future = await whoami(client, place, kiosk, private_key, key_id, timestamp=now + skew + 5)
    refused(future, "in the future")
    within = await whoami(client, place, kiosk, private_key, key_id, timestamp=now - skew // 2)
    assert within.status_code == 200, within.text


async def test_missing_and_malformed_headers_are_named(
    client: httpx.AsyncClient, stack: Settings, place: Place, kiosk: str
) -> None:
    private_key, key_id = await register(client, stack, place, kiosk)
    headers = sign_request(private_key, place.tenant, kiosk, key_id, "GET", WHOAMI)
    del headers[HEADER_NONCE]
    refused(await client.get(WHOAMI, headers=headers), "missing header X-Saku-Nonce")
    headers = sign_request(private_key, place.tenant, kiosk, key_id, "GET", WHOAMI)
    refused(await client.get(WHOAMI, headers=headers | {"X-Saku-Timestamp": "soon"}), "unix")
    # a bearer token is no substitute
    refused(await client.get(WHOAMI, headers=bearer(stack, place, Role.ADMIN)), "missing header")


async def test_revoked_key_is_refused_at_once(
    client: httpx.AsyncClient, stack: Settings, place: Place, kiosk: str, pool: Pool
) -> None:
    private_key, key_id = await register(client, stack, place, kiosk)
    assert (await whoami(client, place, kiosk, private_key, key_id)).status_code == 200
    admin = bearer(stack, place, Role.ADMIN)
    revoke = keys_path(place, kiosk) + f"/{key_id}/revoke"
    response = await client.post(revoke, headers=admin, json={"reason": "kiosk stolen"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "revoked"
    refused(await whoami(client, place, kiosk, private_key, key_id), "revoked")

    again = await client.post(revoke, headers=admin, json={"reason": "again"})
    assert again.status_code == 409 and "already revoked" in again.json()["detail"]
    unknown = await client.post(
        keys_path(place, kiosk) + "/k_000000000000/revoke", headers=admin, json={"reason": "x"}
    )
    assert unknown.status_code == 404, unknown.text
    no_reason = await client.post(revoke, headers=admin, json={"reason": ""})
    assert no_reason.status_code == 422

    # with its current key revoked, the kiosk may register a new one
    new_key, new_id = await register(client, stack, place, kiosk)
    assert (await whoami(client, place, kiosk, new_key, new_id)).status_code == 200

    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT actor, actor_role, action, reason FROM audit_log "
            "WHERE tenant_id = %s AND target = %s ORDER BY id",
            (place.tenant, f"kiosk:{kiosk}/key:{key_id}"),
        )
        rows = await cur.fetchall()
    assert [(r["action"], r["actor_role"]) for r in rows] == [
        ("kiosk_key.register", "admin"),
        ("kiosk_key.revoke", "admin"),
    ]
    assert rows[1]["reason"] == "kiosk stolen" and rows[1]["actor"] == "user-admin"


async def test_register_twice_says_rotate_and_bad_keys_are_refused(
    client: httpx.AsyncClient, stack: Settings, place: Place, kiosk: str
) -> None:
    admin = bearer(stack, place, Role.ADMIN)
    path = keys_path(place, kiosk)
    rotate_first = await client.post(
        path + "/rotate", headers=admin, json={"public_key": encode_public_key(bytes(32))}
    )
    assert rotate_first.status_code == 409 and "register" in rotate_first.json()["detail"]

    await register(client, stack, place, kiosk)
    _, public_key = generate_key_pair()
    response = await client.post(
        path, headers=admin, json={"public_key": encode_public_key(public_key)}
    )
    assert response.status_code == 409 and "rotate" in response.json()["detail"]

    for bad, reason in (("not base64!", "base64"), ("AAAA", "32 raw bytes")):
        response = await client.post(path, headers=admin, json={"public_key": bad})
        assert response.status_code == 400, response.text
        assert reason in response.json()["detail"]


async def test_rotation_keeps_the_old_key_for_the_grace_period_only(
    client: httpx.AsyncClient, stack: Settings, place: Place, kiosk: str, pool: Pool
) -> None:
    old_key, old_id = await register(client, stack, place, kiosk)
    new_key, new_id = await rotate(client, stack, place, kiosk, grace_s=300)
    assert (await whoami(client, place, kiosk, new_key, new_id)).status_code == 200
    assert (await whoami(client, place, kiosk, old_key, old_id)).status_code == 200

    listed = await client.get(keys_path(place, kiosk), headers=bearer(stack, place, Role.ADMIN))
    assert listed.status_code == 200, listed.text
    statuses = {k["key_id"]: k["status"] for k in listed.json()}
    assert statuses == {new_id: "current", old_id: "grace"}

    # the grace period ends
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE kiosk_keys SET valid_until = now() - interval '1 second' "
            "WHERE tenant_id = %s AND kiosk_id = %s AND key_id = %s",
            (place.tenant, kiosk, old_id),
        )
    refused(await whoami(client, place, kiosk, old_key, old_id), "expired")
    assert (await whoami(client, place, kiosk, new_key, new_id)).status_code == 200

    # with no grace, the replaced key is refused at once
    newest_key, newest_id = await rotate(client, stack, place, kiosk, grace_s=0)
    refused(await whoami(client, place, kiosk, new_key, new_id), "expired")
    assert (await whoami(client, place, kiosk, newest_key, newest_id)).status_code == 200

    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT action, target, actor_role, details FROM audit_log "
            "WHERE tenant_id = %s AND target LIKE %s ORDER BY id",
            (place.tenant, f"kiosk:{kiosk}/%"),
        )
        rows = await cur.fetchall()
    assert [(r["action"], r["target"]) for r in rows] == [
        ("kiosk_key.register", f"kiosk:{kiosk}/key:{old_id}"),
        ("kiosk_key.rotate", f"kiosk:{kiosk}/key:{new_id}"),
        ("kiosk_key.rotate", f"kiosk:{kiosk}/key:{newest_id}"),
    ]
    assert rows[1]["actor_role"] == "school_staff"
    assert rows[1]["details"]["previous_key_id"] == old_id
    assert rows[2]["details"] == rows[2]["details"] | {"previous_key_id": new_id, "grace_s": 0}


async def test_a_reused_public_key_is_refused(
    client: httpx.AsyncClient, stack: Settings, place: Place, kiosk: str
) -> None:
    private_key, _ = await register(client, stack, place, kiosk)
    public_key = private_key.public_key().public_bytes_raw()
    response = await client.post(
        keys_path(place, kiosk) + "/rotate",
        headers=bearer(stack, place, Role.ADMIN),
        json={"public_key": encode_public_key(public_key)},
    )
    assert response.status_code == 409 and "already used" in response.json()["detail"]


async def test_a_deactivated_kiosk_is_refused(
    client: httpx.AsyncClient, stack: Settings, place: Place, kiosk: str, pool: Pool
) -> None:
    private_key, key_id = await register(client, stack, place, kiosk)
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE kiosks SET active = false WHERE tenant_id = %s AND id = %s",
            (place.tenant, kiosk),
        )
    refused(await whoami(client, place, kiosk, private_key, key_id), "deactivated")


async def test_school_staff_manage_only_their_own_schools_kiosks(
    client: httpx.AsyncClient, stack: Settings, place: Place, kiosk: str
) -> None:
    _, public_key = generate_key_pair()
    body = {"public_key": encode_public_key(public_key)}
    outsider = bearer(stack, place, Role.SCHOOL_STAFF, place.other_school)
    response = await client.post(keys_path(place, kiosk), headers=outsider, json=body)
    assert response.status_code == 403 and "another school" in response.json()["detail"]
    response = await client.get(keys_path(place, kiosk), headers=outsider)
    assert response.status_code == 403

    # the other school's path: the kiosk is not there
    other_path = keys_path(place, kiosk, place.other_school)
    response = await client.post(other_path, headers=outsider, json=body)
    assert response.status_code == 404 and "no kiosk" in response.json()["detail"]

    for role in (Role.GUARDIAN, Role.OPERATOR, Role.ANALYST, Role.INTEGRATION):
        response = await client.get(keys_path(place, kiosk), headers=bearer(stack, place, role))
        assert response.status_code == 403, (role, response.text)

    staff = bearer(stack, place, Role.SCHOOL_STAFF, place.school)
    response = await client.post(keys_path(place, kiosk), headers=staff, json=body)
    assert response.status_code == 201, response.text
    listed = await client.get(keys_path(place, kiosk), headers=staff)
    assert [k["key_id"] for k in listed.json()] == [response.json()["key_id"]]
    assert listed.json()[0]["public_key"] == body["public_key"]
