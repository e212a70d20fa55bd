"""The kiosk screen in a real Chromium: a deployed kiosk (`build_kiosk`: agent, simulated
sensor, background sync) on a real socket, talking over HTTP to the real API on the test
stack through a network link the test can cut. Each state is screenshotted, checked to fit
the screen's width and checked with axe-core for serious or critical accessibility
violations."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.async_api import Browser, Locator, Page, expect

from core.db import Pool
from core.security import Role
from core.settings import Settings
from devices.kiosk.agent import KioskAgent
from devices.kiosk.client import KioskClient, KioskIdentity
from devices.kiosk.journal import Journal
from devices.kiosk.link import Link
from devices.kiosk.run import KioskSetup, build_kiosk
from devices.kiosk.screen import LANGUAGE_COOKIE
from devices.kiosk.sensor import Sensor
from devices.kiosk.slots import SlotMap
from devices.sensor.simulator import SensorSimulator
from tests.browser import browser, checked, served_api
from tests.integration.wallet_world import PIN, World, build_world
from tests.stackutil import eventually

__all__ = ["browser", "served_api"]

pytestmark = pytest.mark.integration
FINGER = "budi-right-thumb"
KIOSK_SCREEN = {"width": 1280, "height": 800}  # a kiosk-sized landscape screen
PHONE = {"width": 360, "height": 740}
APPROVED = re.compile(r"\bapproved\b")
DECLINED = re.compile(r"\bdeclined\b")
Finger = tuple[SensorSimulator, str]  # a sensor, and the finger placed on it to pay


@dataclass
class Kiosk:
    url: str
    link: Link  # the kiosk's network link to Saku: `link.down = True` cuts it


@pytest.fixture
def simulator() -> Iterator[SensorSimulator]:
    with SensorSimulator(seed=11) as sensor:
        yield sensor


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def deployed_kiosk(
    world: World, simulator: SensorSimulator, saku_url: str, tmp_path: Path, *, online: bool = True
) -> AsyncIterator[Kiosk]:
    """The kiosk as `saku kiosk` runs it, its screen on a free loopback port, its data
    (journal, roster, slot map) under `tmp_path`: started again on the same `tmp_path`, it
    finds what it kept. `online=False`: it starts with its link to Saku cut."""
    key_file = tmp_path / "kiosk.key"
    key_file.write_bytes(world.kiosk.private_key.private_bytes_raw())
    key_file.chmod(0o600)
    setup = KioskSetup(
        world.tenant,
        world.kiosk.id,
        world.kiosk.key_id,
        key_file,
        simulator.port,
        saku_url,
        tmp_path / "kiosk",
    )
    link = Link(httpx.AsyncHTTPTransport())
    link.down = not online
    app = build_kiosk(setup, transport=link, sync_every_s=0.5)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.02)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as screen:

            async def ready() -> bool:
                status = (await screen.get("/status")).json()
                if online:  # the first sync told it the caps and categories
                    return bool(status["offline_caps_known"])
                return bool(status["selling_offline"])  # its first sync found Saku gone

            assert await eventually(ready, timeout=20)
        yield Kiosk(url, link)
    finally:
        server.should_exit = True
        await serving


async def enrol(world: World, student: str, simulator: SensorSimulator, tmp_path: Path) -> None:
    """The guardian consents and the student enrols a finger (at a second, enrolling
    agent); the deployed kiosk loads the template at its next sync."""
    staff = world.token(Role.SCHOOL_STAFF, school=world.school)
    consent = {"party": f"guardian:g-{student}", "decision": "consent"}
    await world.post(f"/v1/students/{student}/biometrics/consent", consent, staff)
    kiosk = world.kiosk
    identity = KioskIdentity(world.tenant, kiosk.id, kiosk.key_id, kiosk.private_key)
    folder = tmp_path / "enrolling"
    folder.mkdir()
    enrolling = KioskAgent(
        KioskClient(world.client, identity),
        Sensor(simulator.port, finger_wait_s=2),
        SlotMap(folder / "slots.sqlite"),
        Journal(folder / "journal.sqlite", identity),
    )
    simulator.place_finger(FINGER)
    await enrolling.enrol(student, 1, "staff-ani")
    simulator.remove_finger()


async def open_screen(browser: Browser, kiosk: Kiosk, viewport: dict[str, int]) -> Page:
    page = await browser.new_page(viewport=viewport)  # type: ignore[arg-type]
    await page.goto(kiosk.url)
    return page


async def check(page: Page, state: str) -> None:
    """Screenshot, nothing wider than the screen (no sideways scrolling), and no serious or
    critical accessibility violation."""
    assert await _fits(page), f"{state}: wider than the screen"
    await checked(page, f"kiosk-{state}")


async def choose(page: Page, group: str, label: str) -> None:
    """Tap a tile: a category or a way to pay."""
    await page.locator(f".{group}").get_by_text(label, exact=True).click()


async def type_on_keypad(page: Page, digits: str) -> None:
    for digit in digits:
        await page.locator(f".keypad [data-key='{digit}']").click()


async def sell(
    page: Page,
    amount: str | None,
    *,
    category: str | None = None,
    method: str | None = None,
    student: str | None = None,
    pin: str | None = None,
    finger: Finger | None = None,
    before_paying: str | None = None,
) -> Locator:
    """One sale as the cashier and the child make it by touch: the amount on the keypad, a
    category and a way to pay tapped (named as the screen shows them), the student number
    typed (as a QR scanner types it), the PIN on the keypad, the finger on the sensor, then
    Pay. `amount` None: typed already. `before_paying`: a state to `check` just before Pay.
    Returns the result shown."""
    if amount is not None:
        await type_on_keypad(page, amount)
    if category is not None:
        await choose(page, "categories", category)
    if method is not None:
        await choose(page, "methods", method)
    if student is not None:
        await page.locator("#student").fill(student)
    if pin is not None:
        await page.locator("#pin").focus()
        await type_on_keypad(page, pin)  # the keypad types the PIN once it has the cursor
        await expect(page.locator("#pin")).to_have_value(pin)
    if before_paying is not None:
        await check(page, before_paying)
    return await pay(page, finger)


async def pay(page: Page, finger: Finger | None = None) -> Locator:
    """Tap Pay (in the screen's language), the finger on the sensor if given, and wait for
    the screen that answers: the result it shows."""
    if finger is not None:
        finger[0].place_finger(finger[1])
    english = await page.locator("html").get_attribute("lang") == "en"
    try:
        async with page.expect_navigation(timeout=30_000):
            await page.get_by_role("button", name="Pay" if english else "Bayar", exact=True).click()
    finally:
        if finger is not None:
            finger[0].remove_finger()
    result = page.locator("#result")
    await expect(result).to_be_visible()
    return result


async def in_english(page: Page) -> None:
    """Tap English: the screen (and the kiosk's cookie) switches language."""
    await page.get_by_role("button", name="English").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")


async def test_a_fingerprint_sale_is_approved_with_the_childs_name(
    stack: Settings,
    pool: Pool,
    client: httpx.AsyncClient,
    browser: Browser,
    served_api: str,
    simulator: SensorSimulator,
    tmp_path: Path,
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student()
    await world.top_up(student, "20000")
    await enrol(world, student, simulator, tmp_path)
    async with deployed_kiosk(world, simulator, served_api, tmp_path) as kiosk:

        async def loaded() -> bool:
            return len(simulator.stored_slots()) == 1

        await eventually(loaded, timeout=20)
        page = await open_screen(browser, kiosk, KIOSK_SCREEN)
        await expect(page.locator("html")).to_have_attribute("lang", "id")
        await expect(page.locator("#ready")).to_have_text("Siap.")
        await check(page, "ready")

        await type_on_keypad(page, "5000")
        await expect(page.locator("#amount-shown")).to_have_text("Rp 5.000")
        await choose(page, "categories", "Makanan")  # the meals category
        await check(page, "amount-and-category")
        result = await pay(page, (simulator, FINGER))
        await expect(result).to_have_class(APPROVED)
        await expect(result.locator("h2")).to_have_text("Disetujui")
        await expect(result).to_contain_text("Terima kasih, Budi S.!")
        await expect(result).to_contain_text("Dibayar Rp 5.000")
        await expect(result).to_contain_text("Sisa saldo Rp 15.000")
        await expect(page.locator("#next")).to_be_focused()
        await check(page, "approved-fingerprint")
        assert await world.balance(student) == "15000.0000"

        # the same child, more than the wallet holds: declined, the reason in words
        await page.locator("#next").click()
        declined = await sell(page, "50000", finger=(simulator, FINGER))
        await expect(declined).to_have_class(DECLINED)
        await expect(declined.locator("h2")).to_have_text("Ditolak")
        await expect(declined).to_contain_text("Budi S.")
        await expect(declined).to_contain_text("Uang di dompetmu tidak cukup.")
        await expect(page.locator("#amount")).to_have_value("50000")  # kept, to correct
        await check(page, "declined-insufficient")
        await page.close()
    assert await world.balance(student) == "15000.0000"


async def test_a_declined_finger_falls_back_to_the_pin_and_a_blocked_category_says_why(
    stack: Settings,
    pool: Pool,
    client: httpx.AsyncClient,
    browser: Browser,
    served_api: str,
    simulator: SensorSimulator,
    tmp_path: Path,
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student()
    await world.top_up(student, "20000")
    await world.client.put(
        f"/v1/students/{student}/controls/categories/snacks",
        json={"blocked": True},
        headers=world.guardian(student),
    )
    async with deployed_kiosk(world, simulator, served_api, tmp_path) as kiosk:
        page = await open_screen(browser, kiosk, KIOSK_SCREEN)
        declined = await sell(page, "3000", finger=(simulator, "a-finger-nobody-enrolled"))
        await expect(declined).to_have_class(DECLINED)
        await expect(declined).to_contain_text(
            "Sidik jari tidak dikenali. Coba lagi atau pakai PIN."
        )
        # the PIN is offered next, the amount kept, the cursor on the student number
        await expect(page.get_by_role("radio", name="PIN")).to_be_checked()
        await expect(page.locator("#student")).to_be_focused()
        await expect(page.locator("#amount")).to_have_value("3000")
        await check(page, "declined-not-recognised")

        await page.locator("#student").fill(student)
        await page.locator("#pin").focus()
        await type_on_keypad(page, "1357")  # the keypad types the PIN now
        await expect(page.locator("#pin")).to_have_value("1357")
        wrong = await pay(page)
        await expect(wrong).to_have_class(DECLINED)
        await expect(wrong).to_contain_text("PIN salah.")
        await expect(page.locator("#pin")).to_be_focused()
        await check(page, "declined-wrong-pin")

        await type_on_keypad(page, PIN)
        approved = await pay(page)
        await expect(approved).to_have_class(APPROVED)
        await expect(approved).to_contain_text("Terima kasih, Budi S.!")
        await expect(approved).to_contain_text("Sisa saldo Rp 17.000")
        await check(page, "approved-pin")

        # snacks are blocked by the guardian: the child reads why, with the category named
        await page.keyboard.press("Escape")  # the next sale
        await expect(page.locator("#ready")).to_be_visible()
        blocked = await sell(
            page, "2000", category="Jajanan", method="PIN", student=student, pin=PIN
        )
        await expect(blocked).to_have_class(DECLINED)
        await expect(blocked).to_contain_text("Jajanan diblokir oleh orang tuamu.")
        await check(page, "declined-category-blocked")
        await page.close()
    assert await world.balance(student) == "17000.0000"


async def test_offline_the_banner_shows_and_sales_stay_within_caps_then_sync(
    stack: Settings,
    pool: Pool,
    client: httpx.AsyncClient,
    browser: Browser,
    served_api: str,
    simulator: SensorSimulator,
    tmp_path: Path,
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student()
    await world.top_up(student, "30000")
    async with deployed_kiosk(world, simulator, served_api, tmp_path) as kiosk:
        page = await open_screen(browser, kiosk, KIOSK_SCREEN)
        banner = page.locator("#offline")
        await expect(banner).to_be_hidden()

        kiosk.link.down = True
        await expect(banner).to_be_visible(timeout=10_000)  # the screen follows the link
        await expect(banner).to_contain_text("OFFLINE — menjual dalam batas")
        await check(page, "offline-banner")

        # within the 25,000 a student may spend offline; no receipt comes, yet the child is
        # greeted by name: the kiosk keeps its school's names for this
        approved = await sell(page, "20000", method="Kartu QR", student=student)
        await expect(approved).to_have_class(APPROVED)
        await expect(approved).to_contain_text("Terima kasih, Budi S.!")
        await expect(approved).to_contain_text("Dibayar Rp 20.000")  # what the journal sold
        await expect(approved).to_contain_text("Dijual offline")
        await expect(banner).to_be_visible()
        await check(page, "approved-offline")
        await page.set_viewport_size(PHONE)  # type: ignore[arg-type]
        await page.mouse.wheel(0, 2000)
        await expect(banner).to_be_in_viewport()  # it stays on top while the page scrolls
        await check(page, "phone-approved-offline")
        await page.set_viewport_size(KIOSK_SCREEN)  # type: ignore[arg-type]

        await page.keyboard.press("Escape")  # the next sale
        await expect(page.locator("#ready")).to_be_visible()
        # 30,000 today: over the offline cap
        over = await sell(page, "10000", method="Kartu QR", student=student)
        await expect(over).to_have_class(DECLINED)
        await expect(over).to_contain_text("Batas offline tercapai.")
        await expect(over).to_contain_text("Budi S.")
        await check(page, "declined-offline-cap")

        await page.set_viewport_size(PHONE)  # type: ignore[arg-type]
        await in_english(page)
        await expect(banner).to_contain_text("OFFLINE — selling within caps")
        await check(page, "phone-offline-banner-en")

        kiosk.link.down = False
        await expect(banner).to_be_hidden(timeout=10_000)

        async def synced() -> bool:  # the journal reached Saku and was posted
            return await world.balance(student) == "10000.0000"

        assert await eventually(synced, timeout=30)
        await page.close()


async def test_a_kiosk_started_offline_offers_the_categories_it_remembers(
    stack: Settings,
    pool: Pool,
    client: httpx.AsyncClient,
    browser: Browser,
    served_api: str,
    simulator: SensorSimulator,
    tmp_path: Path,
) -> None:
    """A kiosk that has never reached Saku says so instead of offering a meaningless
    category; once it has, it keeps the categories, caps and names it was told, and
    started again without the network it sells with them."""
    world = await build_world(stack, pool, client)
    student = await world.student()
    await world.top_up(student, "10000")
    async with deployed_kiosk(world, simulator, served_api, tmp_path, online=False) as kiosk:
        page = await open_screen(browser, kiosk, KIOSK_SCREEN)
        banner = page.locator("#offline")
        await expect(banner).to_contain_text("OFFLINE — kios ini belum pernah tersambung ke Saku")
        await expect(banner).to_contain_text("belum bisa menjual")
        unknown = page.locator("#categories-unknown")
        await expect(unknown).to_contain_text("Kategori belum diketahui")
        await expect(page.get_by_role("radio", name="Tanpa kategori")).to_have_count(0)
        await check(page, "never-online")

        phone = await open_screen(browser, kiosk, PHONE)
        await in_english(phone)
        await expect(phone.locator("#offline")).to_contain_text(
            "OFFLINE — this kiosk has never reached Saku"
        )
        await expect(phone.locator("#categories-unknown")).to_contain_text(
            "Categories not known yet"
        )
        await check(phone, "phone-never-online-en")
        refused = await sell(phone, "2000", method="QR card", student=student)
        await expect(refused).to_have_class(DECLINED)
        await expect(refused).to_contain_text("This kiosk has never reached Saku")
        await check(phone, "phone-never-online-sale-en")
        await phone.close()

        # Saku answers: the untouched screen shows the school's categories by itself
        kiosk.link.down = False
        await expect(page.get_by_role("radio", name="Makanan")).to_be_visible(timeout=15_000)
        await expect(banner).to_be_hidden()
        await page.close()

    async with deployed_kiosk(world, simulator, served_api, tmp_path, online=False) as kiosk:
        page = await open_screen(browser, kiosk, KIOSK_SCREEN)
        banner = page.locator("#offline")
        await expect(banner).to_contain_text("OFFLINE — menjual dalam batas")
        for category in ("Tanpa kategori", "Makanan", "Jajanan", "Minuman manis"):
            await expect(page.get_by_role("radio", name=category)).to_be_visible()
        await check(page, "started-offline")
        approved = await sell(page, "4000", category="Makanan", method="Kartu QR", student=student)
        await expect(approved).to_have_class(APPROVED)
        await expect(approved).to_contain_text("Terima kasih, Budi S.!")
        await expect(approved).to_contain_text("Dijual offline")
        await check(page, "started-offline-approved")

        await page.set_viewport_size(PHONE)  # type: ignore[arg-type]
        await page.keyboard.press("Escape")  # the next sale
        await expect(page.locator("#ready")).to_be_visible()
        await in_english(page)
        await expect(banner).to_contain_text("OFFLINE — selling within caps")
        await expect(page.get_by_role("radio", name="Meals")).to_be_visible()
        await check(page, "phone-started-offline-en")

        kiosk.link.down = False

        async def synced() -> bool:  # the journal of the restarted kiosk reached Saku
            return await world.balance(student) == "6000.0000"

        assert await eventually(synced, timeout=30)
        await page.close()


async def test_a_qr_card_confirmed_by_the_finger_by_touch_keyboard_and_offline(
    stack: Settings,
    pool: Pool,
    client: httpx.AsyncClient,
    browser: Browser,
    served_api: str,
    simulator: SensorSimulator,
    tmp_path: Path,
) -> None:
    """The QR card names the child and the finger confirms it (verify mode, 1:1 against the
    child's own templates); a finger that is not theirs falls back to the PIN with the
    student number kept. Offline the finger is looked up in the sensor's own library."""
    world = await build_world(stack, pool, client)
    student = await world.student()
    await world.top_up(student, "20000")
    await enrol(world, student, simulator, tmp_path)
    async with deployed_kiosk(world, simulator, served_api, tmp_path) as kiosk:

        async def loaded() -> bool:  # the sync no longer uses the sensor the sale needs
            return len(simulator.stored_slots()) == 1

        assert await eventually(loaded, timeout=20)
        page = await open_screen(browser, kiosk, KIOSK_SCREEN)
        await choose(page, "methods", "Kartu QR + jari")
        await expect(page.locator("#student")).to_be_visible()
        await expect(page.locator("#pin")).to_be_hidden()
        await expect(page.locator(".hint[data-for=qr_finger]")).to_contain_text("letakkan jari")
        await page.keyboard.press("Escape")  # cancel: back to the finger alone
        approved = await sell(
            page,
            "3000",
            category="Makanan",
            method="Kartu QR + jari",
            student=student,
            finger=(simulator, FINGER),
            before_paying="qr-finger",
        )
        await expect(approved).to_have_class(APPROVED)
        await expect(approved).to_contain_text("Terima kasih, Budi S.!")
        await expect(approved).to_contain_text("Sisa saldo Rp 17.000")
        await check(page, "approved-qr-finger")

        # someone else's finger on this child's card: the PIN is next, the number kept
        await page.locator("#next").click()
        impostor = await sell(
            page,
            "2000",
            method="Kartu QR + jari",
            student=student,
            finger=(simulator, "an-impostor"),
        )
        await expect(impostor).to_have_class(DECLINED)
        await expect(impostor).to_contain_text("Sidik jari tidak cocok. Silakan pakai PIN.")
        await expect(page.get_by_role("radio", name="PIN")).to_be_checked()
        await expect(page.locator("#student")).to_have_value(student)
        await expect(page.locator("#pin")).to_be_focused()
        await check(page, "declined-qr-finger-no-match")
        await type_on_keypad(page, PIN)
        by_pin = await pay(page)
        await expect(by_pin).to_have_class(APPROVED)
        await expect(by_pin).to_contain_text("Sisa saldo Rp 15.000")

        # the keyboard alone, as a QR scanner types: the number, then Enter
        keys = page.keyboard
        await keys.press("Escape")  # the next sale
        await expect(page.locator("#ready")).to_be_visible()
        await expect(page.locator("#amount")).to_be_focused()
        await keys.type("1000")
        await keys.press("Tab")  # the categories
        await keys.press("Tab")  # the ways to pay
        await expect(page.get_by_role("radio", name="Sidik jari")).to_be_focused()
        await keys.press("ArrowRight")
        # exactly: the tick drawn on the chosen tile is not read out as part of its name
        qr_tile = page.get_by_role("radio", name="Kartu QR + jari", exact=True)
        await expect(qr_tile).to_be_checked()
        await keys.press("Tab")
        await expect(page.locator("#student")).to_be_focused()
        assert await _focus_ring_shows(page)
        await keys.type(student)
        simulator.place_finger(FINGER)
        try:
            async with page.expect_navigation(timeout=30_000):
                await keys.press("Enter")
        finally:
            simulator.remove_finger()
        await expect(page.locator("#result")).to_have_class(APPROVED)
        await expect(page.locator("#result")).to_contain_text("Terima kasih, Budi S.!")
        await expect(page.locator("#next")).to_be_focused()
        await check(page, "keyboard-qr-finger")

        # on a phone-sized screen, in English
        await page.set_viewport_size(PHONE)  # type: ignore[arg-type]
        await keys.press("Escape")
        await expect(page.locator("#ready")).to_be_visible()
        await in_english(page)
        phone = await sell(
            page,
            "1000",
            method="QR card + finger",
            student=student,
            finger=(simulator, FINGER),
            before_paying="phone-qr-finger-en",
        )
        await expect(phone).to_have_class(APPROVED)
        await expect(phone).to_contain_text("Thank you, Budi S.!")
        await check(page, "phone-approved-qr-finger-en")

        # offline: no templates from Saku, the sensor's own library decides
        kiosk.link.down = True
        await expect(page.locator("#offline")).to_be_visible(timeout=10_000)
        await page.get_by_role("link", name="Next sale").click()
        await expect(page.locator("#ready")).to_be_visible()
        offline = await sell(
            page,
            "2000",
            method="QR card + finger",
            student=student,
            finger=(simulator, FINGER),
        )
        await expect(offline).to_have_class(APPROVED)
        await expect(offline).to_contain_text("Thank you, Budi S.!")
        await expect(offline).to_contain_text("Sold offline")
        await check(page, "phone-approved-qr-finger-offline-en")
        await page.close()
    assert await world.balance(student) == "13000.0000"


async def test_the_screen_works_with_the_keyboard_alone(
    stack: Settings,
    pool: Pool,
    client: httpx.AsyncClient,
    browser: Browser,
    served_api: str,
    simulator: SensorSimulator,
    tmp_path: Path,
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student()
    await world.top_up(student, "10000")
    async with deployed_kiosk(world, simulator, served_api, tmp_path) as kiosk:
        page = await open_screen(browser, kiosk, KIOSK_SCREEN)
        keys = page.keyboard
        await expect(page.locator("#amount")).to_be_focused()  # ready to type at once
        await keys.type("2500")
        await expect(page.locator("#amount-shown")).to_have_text("Rp 2.500")
        await keys.press("Tab")  # the categories: one stop, arrows choose
        first_category = page.get_by_role("radio", name="Tanpa kategori")
        await expect(first_category).to_be_focused()
        assert await _focus_ring_shows(page)
        await keys.press("ArrowRight")
        await keys.press("Tab")  # the ways to pay
        await expect(page.get_by_role("radio", name="Sidik jari")).to_be_focused()
        for _ in range(3):  # past the QR card with the finger, and the PIN
            await keys.press("ArrowRight")
        await expect(page.get_by_role("radio", name=re.compile(r"Kartu QR$"))).to_be_checked()
        await expect(page.locator("#pin")).to_be_hidden()  # only the QR card's field
        await keys.press("Tab")
        await expect(page.locator("#student")).to_be_focused()
        assert await _focus_ring_shows(page)
        await check(page, "keyboard-qr")
        await keys.type(student)  # as a QR scanner types it: the number, then Enter
        await keys.press("Enter")
        approved = page.locator("#result.approved")
        await expect(approved).to_be_visible(timeout=20_000)
        await expect(approved).to_contain_text("Budi S.")
        await expect(page.locator("#next")).to_be_focused()
        assert await _focus_ring_shows(page)
        await check(page, "keyboard-approved")

        await keys.press("Escape")  # the next sale
        await expect(page.locator("#ready")).to_be_visible()
        await keys.type("1234")
        await keys.press("Escape")  # cancel: the amount is cleared
        await expect(page.locator("#amount")).to_have_value("")

        # a staff override, and the staff name is required
        await keys.type("1000")
        await keys.press("Tab")
        await keys.press("Tab")
        for _ in range(4):
            await keys.press("ArrowRight")
        await expect(page.get_by_role("radio", name="Petugas")).to_be_checked()
        await keys.press("Tab")
        await keys.type(student)
        await keys.press("Enter")
        declined = page.locator("#result.declined")
        await expect(declined).to_contain_text("Persetujuan petugas perlu nama petugas.")
        await expect(page.locator("#staff")).to_be_focused()
        await keys.type("Bu Ani")
        await keys.press("Enter")
        await expect(page.locator("#result.approved")).to_be_visible(timeout=20_000)
        await check(page, "keyboard-override")
        await page.close()
    assert await world.balance(student) == "6500.0000"


async def _focus_ring_shows(page: Page) -> bool:
    """The focused control (or a radio's tile) draws an outline and the yellow ring."""
    return bool(
        await page.evaluate(
            """() => {
              let element = document.activeElement;
              if (element.type === "radio") element = element.nextElementSibling;
              const style = getComputedStyle(element);
              return style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 3
                && style.boxShadow !== "none";
            }"""
        )
    )


async def test_on_a_360_px_phone_screen_in_english(
    stack: Settings,
    pool: Pool,
    client: httpx.AsyncClient,
    browser: Browser,
    served_api: str,
    simulator: SensorSimulator,
    tmp_path: Path,
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student()
    await world.top_up(student, "10000")
    async with deployed_kiosk(world, simulator, served_api, tmp_path) as kiosk:
        page = await open_screen(browser, kiosk, PHONE)
        await check(page, "phone-ready")
        await page.get_by_role("button", name="English").click()
        await expect(page.locator("html")).to_have_attribute("lang", "en")
        await expect(page.locator("#ready")).to_have_text("Ready.")
        await expect(page.get_by_role("button", name="English")).to_have_attribute(
            "aria-pressed", "true"
        )
        await type_on_keypad(page, "4000")
        await expect(page.locator("#amount-shown")).to_have_text("Rp 4,000")
        approved = await sell(
            page,
            None,  # typed above
            category="Snacks",
            method="PIN",
            student=student,
            pin=PIN,
            before_paying="phone-pin",
        )
        await expect(approved).to_have_class(APPROVED)
        await expect(approved).to_contain_text("Thank you, Budi S.!")
        await expect(approved).to_contain_text("Balance left Rp 6,000")
        await check(page, "phone-approved")
        await page.close()


async def _fits(page: Page) -> bool:
    """Nothing is wider than the screen (no sideways scrolling)."""
    return bool(
        await page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    )


async def test_the_screen_pays_only_from_its_own_page(
    stack: Settings,
    pool: Pool,
    client: httpx.AsyncClient,
    served_api: str,
    simulator: SensorSimulator,
    tmp_path: Path,
) -> None:
    """A POST without the screen's CSRF token (another page open on the kiosk, say) and a
    host name other than loopback (DNS rebinding) are refused; the same form sent twice
    pays once."""
    world = await build_world(stack, pool, client)
    student = await world.student()
    await world.top_up(student, "10000")
    async with deployed_kiosk(world, simulator, served_api, tmp_path) as kiosk:
        screen = httpx.AsyncClient(base_url=kiosk.url, cookies={LANGUAGE_COOKIE: "en"})
        async with screen:
            sale = {"amount": "1000", "method": "qr", "student": student}
            forged = await screen.post("/pay", data=sale)
            assert forged.status_code == 403 and "expired" in forged.text
            wrong_token = await screen.post("/pay", data=sale | {"csrf": "guessed"})
            assert wrong_token.status_code == 403
            rebound = await screen.get("/", headers={"Host": "kiosk.attacker.example"})
            assert rebound.status_code == 400 and "csrf" not in rebound.text
            language = await screen.post("/lang", data={"lang": "en"})
            assert language.status_code == 403
            assert await world.balance(student) == "10000.0000"

            page = await screen.get("/")
            assert page.headers["content-security-policy"].startswith("default-src 'self'")
            token = re.search(r'name="csrf" value="([^"]+)"', page.text)
            sale_id = re.search(r'name="sale" value="([^"]+)"', page.text)
            assert token is not None and sale_id is not None
            form = sale | {"csrf": token[1], "sale": sale_id[1]}
            first, again = await asyncio.gather(
                screen.post("/pay", data=form), screen.post("/pay", data=form)
            )
            assert (first.status_code, again.status_code) == (200, 200)
            assert "Approved" in first.text and "Approved" in again.text
            assert await world.balance(student) == "9000.0000"  # paid once
