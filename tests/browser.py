"""Pages tested in a real Chromium: Debian's `chromium` driven by Playwright, against the
real API served over HTTP on a free port. A missing browser is installed, never a reason
to skip. Screenshots go to `test-artifacts/screenshots/` (`SAKU_TEST_ARTIFACTS` moves it),
which CI keeps.

Use: `from tests.browser import browser, served_api, screenshot` in a test module's
namespace (pytest finds fixtures imported there); `checked` also runs axe-core (bundled in
axe-playwright-python, nothing fetched) on the page."""

from __future__ import annotations

import asyncio
import os
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from axe_playwright_python.async_playwright import Axe
from fastapi import FastAPI
from playwright.async_api import Browser, Page, async_playwright

from tests.system_packages import ensure_command

_AXE = Axe()
ARTIFACTS = Path(os.environ.get("SAKU_TEST_ARTIFACTS", "test-artifacts"))
# the machine has no internet: without these Chromium keeps trying to reach Google's hosts
_QUIET = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = ensure_command("chromium", package="chromium")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            # root cannot use Chromium's sandbox
            chromium_sandbox=os.geteuid() != 0,
            args=_QUIET,
        )
        try:
            yield launched
        finally:
            await launched.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
async def served_api(app: FastAPI) -> AsyncIterator[str]:
    """The module's API (tests/integration/conftest.py `app`) on a real socket: its URL."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()  # raises why it could not start
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def screenshot(page: Page, name: str) -> Path:
    """Keep what the page looks like now as a test artefact."""
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def checked(page: Page, name: str) -> Path:
    """`screenshot`, then the page has no serious or critical accessibility violation."""
    path = await screenshot(page, name)
    results = await _AXE.run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], f"{name}: {results.generate_report()}"
    return path
