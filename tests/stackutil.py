"""Helpers to run a private embedded stack for tests: free ports, a temporary var dir."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from saku.stack.private import private_settings, remove_var_dir
from saku.stack.process import free_port

__all__ = ["eventually", "free_port", "private_settings", "remove_var_dir"]


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
