"""The guardian portal in a real Chromium on a phone-sized window: a guardian signs in (in
Bahasa Indonesia, their phone's language, then switches to English), sees two children,
lowers one's daily limit, blocks a category, sees the next kiosk payment declined with the
reason and listed in the history; sets an auto top-up and sees it fire when the balance
falls (the test plays the bank: it reads the request from the bank-facing topic and answers
with a top-up); moves money to a sibling; reads the notifications. Every page is
screenshotted and checked by axe-core for serious or critical accessibility violations."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from playwright.async_api import Browser, Locator, Page

from core import topics
from core.db import Pool
from core.settings import Settings
from tests.browser import browser, checked, served_api
from tests.integration.guardian_world import PASSWORD, family, sold_offline
from tests.stackutil import eventually

__all__ = ["browser", "served_api"]

pytestmark = pytest.mark.integration
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


async def check(page: Page, name: str, viewport: dict[str, int] = PHONE) -> None:
    """Screenshot, and no serious or critical accessibility violation."""
    await checked(page, f"guardian-{name}")
    # nothing wider than the phone: no sideways scrolling
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"{name}: the page is {width} px wide"


async def follow(page: Page, control: Locator) -> None:
    async with page.expect_navigation():
        await control.click()


async def bank_answers_one_request(settings: Settings, tenant: str) -> dict[str, str]:
    """Play the bank: read the first auto top-up request of `tenant` from the bank-facing
    topic, and answer it with a top-up (its topupId the request's id) on the top-up topic."""
    bootstrap = settings.resolved_kafka_bootstrap()
    consumer = AIOKafkaConsumer(
        settings.topic(topics.TOPUP_REQUESTS.name),
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    try:
        while True:
            record = await consumer.getone()
            request = json.loads(record.value or b"{}")
            if request["tenantId"] == tenant:
                break
    finally:
        await consumer.stop()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        answer = {
            "topupId": request["requestId"],
            "tenantId": tenant,
            # as a bank answers: to the virtual account it was asked to pay into
            "virtualAccount": request["virtualAccount"],
            "amount": request["amount"],
            "payerAccount": request["virtualAccount"],
            "payerName": "Ibu Sari",
        }
        await producer.send_and_wait(
            settings.topic(topics.TOPUPS.name), json.dumps(answer).encode()
        )
    finally:
        await producer.stop()
    return dict(request)


async def test_a_guardian_looks_after_two_children_on_a_phone(
    browser: Browser,
    served_api: str,
    client: httpx.AsyncClient,
    stack: Settings,
    pool: Pool,
    processes: Settings,
) -> None:
    home = await family(stack, pool, client)
    world, (budi, sari) = home.world, home.children
    context = await browser.new_context(viewport=PHONE, locale="id-ID")  # type: ignore[arg-type]
    problems: list[str] = []
    page = await context.new_page()
    page.on("pageerror", lambda err: problems.append(str(err)))

    # sign in, in Bahasa Indonesia (the phone's language)
    await page.goto(f"{served_api}/guardian")
    assert urlsplit(page.url).path == "/sign-in"
    assert await page.get_attribute("html", "lang") == "id"
    await check(page, "01-sign-in")
    await page.get_by_label("Nama pengguna").fill(home.username)
    await page.get_by_label("Kata sandi").fill(PASSWORD)
    await follow(page, page.get_by_role("button", name="Masuk"))
    assert urlsplit(page.url).path == "/guardian"
    await page.get_by_role("heading", name="Anak saya", level=1).wait_for()
    assert await page.locator("section.child").count() == 2
    await check(page, "02-children-id")
    # English, by choice
    await follow(page, page.get_by_role("link", name="English"))
    assert await page.get_attribute("html", "lang") == "en"
    children = page.locator("section.child")
    assert await children.count() == 2
    assert await children.nth(0).get_by_role("heading").inner_text() == "Budi"
    assert await children.nth(1).get_by_role("heading").inner_text() == "Sari"
    assert await children.nth(0).locator("[data-balance]").inner_text() == "Rp 50,000"
    await check(page, "03-children")

    # lower Budi's daily limit, block snacks
    await follow(page, children.nth(0).get_by_role("link", name=re.compile("^Limits and top-up")))
    await page.get_by_label("Daily limit (Rp)", exact=True).fill("5000")
    await page.get_by_label("Warn me when the balance is below (Rp)").fill("70.000")
    limits = page.locator("form", has=page.get_by_label("Daily limit (Rp)", exact=True))
    await follow(page, limits.get_by_role("button", name="Save"))
    await page.get_by_role("status").filter(has_text="Limits saved").wait_for()
    await page.get_by_label("Block Snacks").check()
    await follow(page, page.get_by_role("button", name="Save Snacks"))
    assert await page.get_by_label("Block Snacks").is_checked()
    await check(page, "04-settings")

    # the next kiosk payment of snacks is declined, with the reason, and in the history
    declined = await world.pay(budi, "2000", category_id="snacks")
    assert (declined["status"], declined["reason_code"]) == ("declined", "category_blocked")
    over = await world.pay(budi, "6000", category_id="meals")
    assert (over["status"], over["reason_code"]) == ("declined", "daily_limit")
    await page.goto(f"{served_api}/guardian/children/{budi}/history")
    row = page.locator(f'tr[data-reference="{declined["reference"]}"]')
    await row.wait_for()
    assert "Snacks is blocked by your parent." in await row.inner_text()
    assert "declined" in await row.inner_text()
    over_row = page.locator(f'tr[data-reference="{over["reference"]}"]')
    assert "Daily limit reached." in await over_row.inner_text()
    await check(page, "05-history")

    # auto top-up: below 48,000 ask for 25,000; a 3,000 meal takes Budi to 47,000
    await page.goto(f"{served_api}/guardian/children/{budi}/settings")
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "SELECT virtual_account FROM students WHERE tenant_id = %s AND id = %s",
                (world.tenant, budi),
            )
        ).fetchone()
    assert row is not None
    assert await page.locator("[data-va]").inner_text() == row["virtual_account"]
    await page.get_by_label("When the balance falls below (Rp)").fill("48.000")
    await page.get_by_label("Ask the bank for (Rp)").fill("25000")
    auto = page.locator("form", has=page.get_by_label("Ask the bank for (Rp)"))
    await follow(page, auto.get_by_role("button", name="Save"))
    assert "below Rp 48,000, ask for Rp 25,000" in await page.locator("[data-auto]").inner_text()
    meal = await world.pay(budi, "3000", category_id="meals")
    assert (meal["status"], meal["balance_after"]) == ("approved", "47000.0000")
    request = await bank_answers_one_request(processes, world.tenant)
    assert (request["studentId"], request["amount"]) == (budi, "25000.0000")
    assert request["virtualAccount"] == row["virtual_account"]

    async def credited() -> bool:
        return Decimal(await world.balance(budi)) == 72_000

    assert await eventually(credited, timeout=30), "the bank's top-up was not credited"
    await page.reload()
    asked = page.locator(f'#asked [data-request="{request["requestId"]}"]')
    assert await asked.get_attribute("data-status") == "credited"
    await check(page, "06-auto-topup")

    # move 10,000 from Budi to Sari
    await page.goto(f"{served_api}/guardian/transfer")
    await page.get_by_label("From").select_option(label="Budi")
    await page.get_by_label("To").select_option(label="Sari")
    await page.get_by_label("Amount (Rp)").fill("10000")
    await check(page, "07-transfer")
    await follow(page, page.get_by_role("button", name="Move the money"))
    await page.get_by_role("status").filter(has_text="The money was moved").wait_for()
    assert Decimal(await world.balance(budi)) == 62_000
    assert Decimal(await world.balance(sari)) == 60_000
    await page.goto(f"{served_api}/guardian")
    assert await children.nth(1).locator("[data-balance]").inner_text() == "Rp 60,000"
    # Budi: today's spending against the limit (declines do not count), and low on money
    assert await children.nth(0).locator("[data-today]").inner_text() == "Rp 3,000 of Rp 5,000"
    warning = children.nth(0).get_by_role("status")
    assert "below your alert of Rp 70,000" in await warning.inner_text()
    assert await children.nth(1).get_by_role("status").count() == 0
    await check(page, "09-children-after")

    # the notifications: the declines and the top-up, unread until read
    await follow(page, page.get_by_role("link", name="Notifications").first)
    notices = page.locator("ul.notices li")
    assert await notices.count() >= 3
    newest = notices.first  # the bank's answer to the auto top-up
    assert "Budi: a top-up of Rp 25,000 arrived." in await newest.inner_text()
    assert await newest.get_attribute("class") == "unread"
    assert await page.locator('li[data-kind="payment_declined"]').count() == 2
    await check(page, "08-notifications")
    await follow(page, newest.get_by_role("button", name="Mark as read"))
    assert await notices.first.get_attribute("class") == "read"
    assert await notices.nth(1).get_attribute("class") == "unread"

    # the keyboard alone reaches the first child's history link
    await page.goto(f"{served_api}/guardian")
    for _ in range(30):
        await page.keyboard.press("Tab")
        focused = await page.evaluate("document.activeElement.textContent")
        if focused and focused.startswith("History"):
            break
    else:
        pytest.fail("the history link is not reachable with Tab")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/guardian/children/{budi}/history")
    # and on a desktop: the children side by side
    await page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]
    await page.goto(f"{served_api}/guardian")
    first, second = [await children.nth(i).bounding_box() for i in (0, 1)]
    assert first is not None and second is not None and first["y"] == second["y"]
    await check(page, "10-children-desktop", DESKTOP)
    assert problems == []
    await context.close()


async def test_a_guardian_sees_an_offline_sale_and_its_debt_on_a_phone(
    browser: Browser,
    served_api: str,
    client: httpx.AsyncClient,
    stack: Settings,
    pool: Pool,
    tmp_path: Path,
) -> None:
    """A kiosk sold offline more than Budi's wallet held; after its journal synced, the
    guardian sees the debt on the overview and the sale marked offline in the history."""
    home = await family(stack, pool, client)
    budi = home.children[0]
    assert (await home.world.pay(budi, "40000"))["status"] == "approved"
    [offline] = await sold_offline(home.world, pool, budi, ["15000"], tmp_path)
    context = await browser.new_context(viewport=PHONE, locale="id-ID")  # type: ignore[arg-type]
    problems: list[str] = []
    page = await context.new_page()
    page.on("pageerror", lambda err: problems.append(str(err)))
    await page.goto(f"{served_api}/guardian")
    await page.get_by_label("Nama pengguna").fill(home.username)
    await page.get_by_label("Kata sandi").fill(PASSWORD)
    await follow(page, page.get_by_role("button", name="Masuk"))
    child = page.locator(f'section.child[data-student="{budi}"]')
    assert await child.locator("[data-balance]").inner_text() == "Rp 0"
    assert "Utang dari penjualan offline: Rp 5.000" in await child.inner_text()
    await check(page, "11-offline-debt")
    await follow(page, child.get_by_role("link", name="Riwayat"))
    row = page.locator(f'#history tr[data-reference="{offline}"]')
    shown = await row.inner_text()
    assert "penjualan offline" in shown and "utang Rp 5.000" in shown, shown
    assert "\u2212Rp 15.000" in shown  # a minus sign: money out
    await check(page, "12-offline-history")
    assert problems == []
    await context.close()
