"""Helpers to run a private embedded stack for tests: free ports, a temporary var dir."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from saku.settings import Settings
from saku.stack.process import free_port

__all__ = ["eventually", "free_port", "private_settings", "remove_var_dir"]


def private_settings(**overrides: object) -> Settings:
    """Settings for a stack of its own: fresh ports, a fresh var dir, no external URLs."""
    # under /tmp, not pytest's 0700 tmp dir: PostgreSQL's system user must be able to enter it
    var_dir = Path(tempfile.mkdtemp(prefix="saku-test-"))
    var_dir.chmod(0o755)
    values: dict[str, object] = {
        "var_dir": var_dir,
        "pg_port": free_port(),
        "valkey_port": free_port(),
        "temporal_port": free_port(),
        "temporal_ui_port": free_port(),
        "kafka_port": free_port(),
        "api_port": free_port(),
        "database_url": None,
        "valkey_url": None,
        "temporal_address": None,
        "kafka_bootstrap_servers": None,
        "jwt_secret": "test-secret-" + os.urandom(24).hex(),
        "log_level": "INFO",
        # the tests' webhook receivers listen on this machine: allow-listed, as in development
        "webhook_allow_hosts": "127.0.0.1",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def remove_var_dir(settings: Settings) -> None:
    shutil.rmtree(settings.var_dir, ignore_errors=True)


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout: float, interval: float = 0.05
) -> bool:
    """Poll `check` until it holds or `timeout` seconds pass; returns whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(interval)
    return await check()
