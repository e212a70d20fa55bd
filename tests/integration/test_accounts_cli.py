"""`saku tenants create` and `saku users create`, then signing in with what was created."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from activities.accounts import find_user
from core.security import verify_password
from core.settings import Settings

pytestmark = pytest.mark.integration


def saku(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "saku", *args],
        env=settings.as_environment(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_create_a_tenant_and_a_user_from_the_command_line(stack: Settings, pool) -> None:  # type: ignore[no-untyped-def]
    tenant = f"school-fund-{uuid.uuid4().hex[:6]}"
    username = f"staff-{uuid.uuid4().hex[:6]}"
    created = saku(stack, "tenants", "create", tenant, "--name", "Yayasan Pendidikan")
    assert created.returncode == 0 and "created" in created.stdout
    again = saku(stack, "tenants", "create", tenant, "--name", "Yayasan Pendidikan")
    assert again.returncode == 0 and "already exists" in again.stdout

    args = ("users", "create", "--tenant", tenant, "--username", username)
    result = saku(
        stack,
        *args,
        "--role",
        "school_staff",
        "--school",
        "sd-01",
        stdin="a long enough password\n",
    )
    assert result.returncode == 0, result.stderr
    assert "a long enough password" not in result.stdout + result.stderr
    async with pool.connection() as conn:
        user = await find_user(conn, username)
    assert user is not None and user.school_id == "sd-01" and user.tenant_id == tenant
    assert verify_password(user.password_hash, "a long enough password")


@pytest.mark.parametrize(
    ("args", "stdin", "reason"),
    [
        (
            ("--tenant", "no-such-tenant", "--role", "admin"),
            "a long enough password\n",
            "does not exist",
        ),
        (
            ("--tenant", "DEFAULT", "--role", "school_staff"),
            "a long enough password\n",
            "must belong to a school",
        ),
        (("--tenant", "DEFAULT", "--role", "admin"), "short\n", "at least 10"),
    ],
)
def test_bad_user_requests_say_what_to_fix(
    stack: Settings, args: tuple[str, ...], stdin: str, reason: str
) -> None:
    saku(stack, "tenants", "create", "DEFAULT", "--name", "Default")
    username = f"u-{uuid.uuid4().hex[:6]}"
    result = saku(stack, "users", "create", "--username", username, *args, stdin=stdin)
    assert result.returncode == 2
    assert reason in result.stderr
    assert "Traceback" not in result.stderr
