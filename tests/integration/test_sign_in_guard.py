"""Password guessing is throttled per user and per address, and password hashing is bounded."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from activities.accounts import create_tenant, create_user
from api.app import create_app
from core.db import Pool
from core.security import Role
from core.settings import Settings

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery staple"


async def api(settings: Settings, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The API as seen from a client address of the test's own (failures count per address)."""
    app = create_app(settings.model_copy(update=overrides))
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://saku.test") as client:
            yield client


async def new_user(pool: Pool) -> str:
    username = f"user-{uuid.uuid4().hex[:8]}"
    async with pool.connection() as conn:
        await create_tenant(conn, "sign-in-tests", "Sign-in tests")
        await create_user(
            conn,
            tenant_id="sign-in-tests",
            username=username,
            password=PASSWORD,
            role=Role.OPERATOR,
        )
    return username


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/auth/token", data={"username": username, "password": password})


async def test_a_user_is_locked_after_five_wrong_passwords_with_retry_after(
    stack: Settings, pool: Pool
) -> None:
    alice, bob = await new_user(pool), await new_user(pool)
    async for client in api(stack):
        for _ in range(5):
            assert (await sign_in(client, alice, "wrong password!")).status_code == 401
        locked = await sign_in(client, alice, PASSWORD)  # even the right password waits
        assert locked.status_code == 429
        assert 0 < int(locked.headers["Retry-After"]) <= stack.sign_in_window_s
        assert "too many failed sign-ins for this user" in locked.json()["detail"]
        # another user at the same address is not held up
        assert (await sign_in(client, bob, PASSWORD)).status_code == 200


async def test_an_address_guessing_many_usernames_is_held_back(stack: Settings, pool: Pool) -> None:
    carol = await new_user(pool)
    async for client in api(stack, sign_in_failures_per_address=3):
        for n in range(3):
            assert (await sign_in(client, f"guess-{n}", "whatever123")).status_code == 401
        held = await sign_in(client, carol, PASSWORD)
        assert held.status_code == 429
        assert "this address" in held.json()["detail"] and "Retry-After" in held.headers


async def test_a_success_clears_the_users_count(stack: Settings, pool: Pool) -> None:
    dave = await new_user(pool)
    async for client in api(stack):
        for _ in range(4):
            await sign_in(client, dave, "wrong password!")
        assert (await sign_in(client, dave, PASSWORD)).status_code == 200
        for _ in range(4):
            assert (await sign_in(client, dave, "wrong password!")).status_code == 401
        assert (await sign_in(client, dave, PASSWORD)).status_code == 200


async def test_password_hashes_are_bounded_and_overlong_input_is_refused(
    stack: Settings, pool: Pool
) -> None:
    erin = await new_user(pool)
    async for client in api(stack, password_checks_at_once=1, password_checks_queue=1):
        answers = await asyncio.gather(*(sign_in(client, erin, PASSWORD) for _ in range(8)))
        codes = sorted(a.status_code for a in answers)
        assert set(codes) == {200, 503}, codes  # a few checked, the rest told to come back
        busy = next(a for a in answers if a.status_code == 503)
        assert busy.headers["Retry-After"] == "1"
        long = await sign_in(client, erin, "x" * 10_000)
        assert long.status_code == 422 and "at most" in str(long.json()["detail"])
