"""The Temporal UI and CLI read sealed payloads through Saku's codec endpoint.

In Chromium: an operator signs in at the console (`/sign-in`), and the Temporal UI (the
embedded one, its codec settings pointing at the API and including credentials) shows a
kiosk payment's input decoded, the console's session going with the UI's calls to the
codec; once they sign out of the console, and without a session at all, the same page shows
only ciphertext. The CLI: `temporal workflow show` with `--codec-endpoint` and
`--codec-auth` prints the decoded input, without them the sealed one."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import uuid
from urllib.parse import urlsplit

import httpx
from playwright.async_api import Browser, Page
from temporalio.client import Client

from activities.accounts import create_user
from core.db import Pool
from core.security import Role
from core.settings import Settings
from tests.browser import browser, screenshot, served_api
from tests.integration.wallet_world import World, build_world

__all__ = ["browser", "served_api"]
SEALED = "YmluYXJ5L2VuY3J5cHRlZA=="  # "binary/encrypted" as the UI shows raw metadata


async def a_payment(
    stack: Settings, pool: Pool, client: httpx.AsyncClient
) -> tuple[World, str, str]:
    """A kiosk payment: its school's world, the student, the workflow id."""
    world = await build_world(stack, pool, client)
    student = await world.student()
    await world.top_up(student, "20000")
    paid = await world.pay(student, "4321")
    return world, student, str(paid["workflow_id"])


async def codec_settings(page: Page, endpoint: str) -> None:
    """What an operator sets once in the UI's Codec Server settings ("use my browser
    setting", this endpoint, "include cross-origin credentials"): the UI keeps them in the
    browser's local storage."""
    settings = {
        "endpoint": json.dumps(endpoint),
        "overrideRemoteCodecConfiguration": "true",
        "includeCredentials": "true",
    }
    script = "".join(f"localStorage.setItem({k!r}, {v!r});" for k, v in settings.items())
    await page.add_init_script(script)


async def test_the_temporal_ui_shows_a_payment_decoded_for_a_signed_in_operator_only(
    stack: Settings,
    pool: Pool,
    client: httpx.AsyncClient,
    temporal: Client,
    browser: Browser,
    served_api: str,
) -> None:
    world, student, workflow_id = await a_payment(stack, pool, client)
    username, password = f"op-{uuid.uuid4().hex[:6]}", "codec-" + uuid.uuid4().hex[:10]
    async with pool.connection() as conn:
        await create_user(
            conn, tenant_id=world.tenant, username=username, password=password, role=Role.OPERATOR
        )
    history = await temporal.get_workflow_handle(workflow_id).fetch_history()
    run_id = history.run_id
    [request] = history.events[0].workflow_execution_started_event_attributes.input.payloads
    sealed_input = request.data
    ui = f"http://127.0.0.1:{stack.temporal_ui_port}"
    workflow_page = (
        f"{ui}/namespaces/{stack.temporal_namespace}/workflows/{workflow_id}/{run_id}/history"
    )

    signed_in = await browser.new_context()
    page = await signed_in.new_page()
    await page.goto(f"{served_api}/sign-in")  # the console's own sign-in: one for people
    await page.get_by_label("Nama pengguna").fill(username)
    await page.get_by_label("Kata sandi").fill(password)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Masuk").click()
    assert urlsplit(page.url).path.startswith("/console")
    await codec_settings(page, f"{served_api}/codec")
    await page.goto(workflow_page)
    await page.get_by_text(student).first.wait_for(timeout=30_000)
    await screenshot(page, "temporal-ui-payment-decoded")

    # signing out of the console ends the UI's decoding too
    await page.goto(f"{served_api}/console/cases")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Sign out").click()
    await page.goto(workflow_page)
    await shows_it_sealed(page, workflow_id, student, sealed_input)
    await signed_in.close()

    anonymous = await browser.new_context()
    page = await anonymous.new_page()
    await codec_settings(page, f"{served_api}/codec")
    await page.goto(workflow_page)
    await shows_it_sealed(page, workflow_id, student, sealed_input)
    await screenshot(page, "temporal-ui-payment-sealed")
    await anonymous.close()


async def shows_it_sealed(page: Page, workflow_id: str, student: str, sealed: bytes) -> None:
    """The UI's workflow page, drawn without a session: the ciphertext and the codec's
    refusal, no personal data."""
    await page.get_by_text(workflow_id).first.wait_for(timeout=30_000)
    await asyncio.sleep(3)  # the codec's refusal, and the UI drawing what it has
    content = await page.content()
    assert student not in content
    assert "Codec Server could not connect" in content  # its refusal, as the UI says it
    assert base64.b64encode(sealed).decode()[:60] in content  # the ciphertext shown


async def test_temporal_workflow_show_decodes_through_the_codec_endpoint(
    stack: Settings, pool: Pool, client: httpx.AsyncClient, served_api: str
) -> None:
    world, student, workflow_id = await a_payment(stack, pool, client)
    elsewhere = await build_world(stack, pool, client)  # another school, another tenant
    temporal = shutil.which("temporal")
    assert temporal is not None
    base = [
        temporal,
        "workflow",
        "show",
        "--workflow-id",
        workflow_id,
        "--namespace",
        stack.temporal_namespace,
        "--address",
        stack.resolved_temporal_address(),
        "--output",
        "json",
    ]
    operator = world.token(Role.OPERATOR)
    stranger = elsewhere.token(Role.OPERATOR)

    async def show(*extra: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            *base,
            *extra,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await process.communicate()
        return process.returncode or 0, out.decode()

    code, sealed = await show()
    assert code == 0, sealed
    assert SEALED in sealed and not any(student in d for d in payload_data(sealed))
    endpoint = ["--codec-endpoint", f"{served_api}/codec"]
    code, opened = await show(*endpoint, "--codec-auth", operator["Authorization"])
    assert code == 0, opened
    assert any(student in d for d in payload_data(opened))
    code, refused = await show(*endpoint, "--codec-auth", stranger["Authorization"])
    assert code != 0 and student not in refused  # the CLI gives up; nothing decoded


def payload_data(shown: str) -> list[str]:
    """The data of every payload in `temporal workflow show --output json`, as text."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if "metadata" in value and isinstance(value.get("data"), str):
                found.append(base64.b64decode(value["data"]).decode(errors="replace"))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(json.loads(shown))
    return found
