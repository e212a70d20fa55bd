"""The school office in a real Chromium, as school staff use it: a staff member signs in,
sees the canteen today after a few kiosk payments (one declined), finds a student, marks
them as leaving — the balance goes back to the guardian (a payout request on the bank's
topic, ledger-posted, the wallet at zero) and their fingerprints are erased; the bank
rejects the payout, and staff send it again —, refunds a purchase with a reason, and
rotates and revokes a kiosk's key. Then every page on a
360-px phone, with the keyboard, in both languages. Each page is screenshotted and
checked with axe-core: no serious or critical accessibility violation."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Locator, Page

from activities.wallet.ledger import Ledger
from activities.wallet.payouts import PAYOUTS_PENDING, Payouts
from core.db import Pool
from core.kiosk_signing import encode_public_key, generate_key_pair
from core.security import Role
from core.settings import Settings
from core.wallet.payouts import PayoutAnswer
from tests.browser import browser, checked, served_api
from tests.integration.office_world import (
    PASSWORD,
    enrol,
    fingers,
    payout_requests,
    signed,
    staff_user,
)
from tests.integration.wallet_world import Kiosk, build_world
from tests.stackutil import eventually

__all__ = ["browser", "served_api"]

pytestmark = pytest.mark.integration
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
PAGES = ("/office/today", "/office/students", "/office/payments", "/office/kiosks")


async def check(page: Page, name: str) -> None:
    """Screenshot, and no serious or critical accessibility violation."""
    await checked(page, f"office-{name}")


async def follow(page: Page, control: Locator) -> None:
    """Click a link or a form's button, and wait for the page it leads to."""
    async with page.expect_navigation():
        await control.click()


async def sign_in(page: Page, username: str) -> None:
    await page.get_by_label("Nama pengguna").fill(username)
    await page.get_by_label("Kata sandi").fill(PASSWORD)
    await follow(page, page.get_by_role("button", name="Masuk"))


async def test_staff_run_the_canteen_day_and_a_student_leaves(
    browser: Browser, served_api: str, client: httpx.AsyncClient, stack: Settings, pool: Pool
) -> None:
    world = await build_world(stack, pool, client)
    leaver, buyer = await world.student(), await world.student()
    await enrol(world, leaver)
    assert await fingers(world, leaver) == [1]
    await world.top_up(leaver, "20000")
    await world.top_up(buyer, "10000")
    assert (await world.pay(leaver, "5000", category_id="snacks"))["status"] == "approved"
    bought = world.kiosk_tx()
    assert (await world.pay(buyer, "3000", category_id="meals", tx=bought))["status"] == "approved"
    declined = await world.pay(buyer, "99000", category_id="meals")
    assert declined["reason_code"] == "insufficient_funds"
    username = await staff_user(pool, world)

    context = await browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    await page.goto(f"{served_api}/office")
    assert urlsplit(page.url).path == "/sign-in"
    await sign_in(page, username)
    assert urlsplit(page.url).path == "/office/today"

    # the canteen today, in Bahasa Indonesia
    assert await page.get_by_role("heading", name="Kantin hari ini di SD Negeri 1").is_visible()
    assert "2 senilai Rp 8.000" in await page.locator("#totals").inner_text()
    by_kiosk = await page.locator(f'#by-kiosk tr[data-key="{world.kiosk.id}"]').inner_text()
    assert "Rp 8.000" in by_kiosk
    by_category = await page.locator("#by-category").inner_text()
    assert "Snacks" in by_category and "Meals" in by_category
    declines = await page.locator('#declines tr[data-key="insufficient_funds"]').inner_text()
    assert "Saldo tidak cukup" in declines and "Rp 99.000" in declines
    kiosk_row = await page.locator(f'#kiosk-states tr[data-kiosk="{world.kiosk.id}"]').inner_text()
    assert "daring" in kiosk_row
    await check(page, "01-canteen-today")

    # find the student, open them
    await follow(page, page.get_by_role("link", name="Siswa", exact=True))
    await page.get_by_label("Nama, ID siswa, atau kelas").fill(leaver)
    await follow(page, page.get_by_role("button", name="Cari"))
    rows = page.locator("#students tbody tr")
    assert await rows.count() == 1
    found = await rows.first.inner_text()
    assert "Rp 15.000" in found and "1 terdaftar" in found
    assert "diberikan" in found and "tidak diberikan" not in found
    await check(page, "02-students-search")
    await follow(page, rows.first.get_by_role("link"))
    assert (await page.locator("#student-fingers").inner_text()) == "1 terdaftar"
    assert (await page.locator("#student-consent").inner_text()).startswith("diberikan")
    await check(page, "03-student")

    # mark them as leaving
    await page.get_by_label("Alasan siswa keluar (disimpan di jejak audit)").fill(
        "Pindah ke Surabaya"
    )
    await follow(page, page.get_by_role("button", name="Tandai keluar"))
    assert (await page.locator("#student-status").inner_text()) == "keluar"
    assert "Selesai" in await page.locator("#done").inner_text()
    payout_line = await page.locator("#payout").inner_text()
    assert "Rp 15.000 kepada Ibu Sari" in payout_line
    await check(page, "04-student-left")

    # the balance went back to the guardian: posted, on the bank's topic, the wallet empty
    payout_id = payout_line.split()[-1]
    [request] = await payout_requests(stack, payout_id)
    assert (request["guardianId"], request["amount"]) == (f"g-{leaver}", "15000.0000")
    assert await world.balance(leaver) == "0.0000"
    verified = await Ledger(pool).verify(world.tenant)
    assert verified.ok and verified.payouts == Decimal(15000), verified.problems
    # and the fingerprints are erased
    assert await eventually(lambda: _no_fingers(world, leaver), timeout=20)
    await page.reload()
    assert (await page.locator("#student-fingers").inner_text()) == "belum terdaftar"
    assert "terkirim ke bank" in await page.locator("#payout").inner_text()
    # a leaver can no longer pay
    assert (await world.pay(leaver, "100"))["reason_code"] == "student_inactive"

    # the bank rejects the payout (its answer taken as the consumer takes it): the office
    # shows why, the money is still owed, and staff send it again
    await reject(pool, world.tenant, payout_id, "Rekening tujuan sudah ditutup")
    await page.reload()
    rejected = page.locator(f'#payout-list tr[data-payout="{payout_id}"]')
    assert await rejected.get_attribute("data-status") == "rejected"
    assert "ditolak: Rekening tujuan sudah ditutup" in await rejected.inner_text()
    assert await Ledger(pool).balance(world.tenant, PAYOUTS_PENDING) == Decimal(15000)
    await check(page, "04b-payout-rejected")
    assert await page.get_by_label("Kembalikan saldo kepada").input_value() == f"g-{leaver}"
    await follow(page, page.get_by_role("button", name="Kirim ulang"))
    assert "Dikirim ulang" in await page.locator("#done").inner_text()
    newest, old = await Payouts(pool).of_student(world.tenant, leaver)
    assert (old.id, old.replaced_by, newest.replaces) == (payout_id, newest.id, payout_id)
    resent = page.locator(f'#payout-list tr[data-payout="{newest.id}"]')
    assert await resent.get_attribute("data-status") in ("requested", "sent")
    assert f"dikirim ulang sebagai {newest.id}" in await rejected.inner_text()
    assert await page.get_by_role("button", name="Kirim ulang").count() == 0
    await check(page, "04c-payout-sent-again")
    [again] = await payout_requests(stack, newest.id)
    assert (again["guardianId"], again["amount"]) == (f"g-{leaver}", "15000.0000")

    # refund a purchase, with a reason
    await follow(page, page.get_by_role("link", name="Pembayaran", exact=True))
    row = page.locator(f'tr[data-payment="{bought}"]')
    await row.get_by_label("Alasan (disimpan di jejak audit)").fill("Nasi sudah habis")
    await check(page, "05-payments")
    await follow(page, row.get_by_role("button", name=f"Kembalikan: {bought}"))
    assert "dikembalikan" in await page.locator(f'tr[data-payment="{bought}"]').inner_text()
    assert await world.balance(buyer) == "10000.0000"

    # rotate the kiosk's key, then revoke the old one
    await follow(page, page.get_by_role("link", name="Kios", exact=True))
    await check(page, "06-kiosks")
    private_key, public_key = generate_key_pair()
    section = page.locator(f"#kiosk-{world.kiosk.id}")
    await section.get_by_label("Kunci publik baru kios").fill(encode_public_key(public_key))
    await follow(page, section.get_by_role("button", name="Ganti kunci: Till"))
    keys = page.locator(f"#kiosk-{world.kiosk.id} tbody tr")
    assert await keys.count() == 2
    old = page.locator(f'#kiosk-{world.kiosk.id} tr[data-key="{world.kiosk.key_id}"]')
    assert await old.get_attribute("data-status") == "grace"
    await old.get_by_label("Alasan (mis. kios dicuri)").fill("Kios lama dicuri")
    await follow(page, old.get_by_role("button", name=f"Cabut: {world.kiosk.key_id}"))
    old = page.locator(f'#kiosk-{world.kiosk.id} tr[data-key="{world.kiosk.key_id}"]')
    assert await old.get_attribute("data-status") == "revoked"
    await check(page, "07-kiosk-key-rotated-and-revoked")
    refused = await signed(world, world.kiosk, "GET", "/v1/kiosk/whoami")
    assert refused.status_code == 401 and "revoked" in refused.text
    new_id = await page.locator(f'#kiosk-{world.kiosk.id} tr[data-status="current"]').get_attribute(
        "data-key"
    )
    assert new_id is not None
    fresh = Kiosk(world.kiosk.id, new_id, private_key)
    assert (await signed(world, fresh, "GET", "/v1/kiosk/whoami")).status_code == 200
    await context.close()
    assert problems == [], "the pages logged errors (a CSP violation?)"


async def reject(pool: Pool, tenant: str, payout_id: str, reason: str) -> None:
    answer = PayoutAnswer(tenant, payout_id, "rejected", "BNI-7731", reason, None, None)
    assert await Payouts(pool).answer(answer) == "rejected"


async def _no_fingers(world: object, student: str) -> bool:
    from tests.integration.wallet_world import World

    assert isinstance(world, World)
    return await fingers(world, student) == []


async def test_every_office_page_on_a_phone_with_the_keyboard_in_both_languages(
    browser: Browser, served_api: str, client: httpx.AsyncClient, stack: Settings, pool: Pool
) -> None:
    world = await build_world(stack, pool, client)
    student, leaver = await world.student(), await world.student()
    await world.top_up(student, "5000")
    await world.pay(student, "1000", category_id="snacks")
    # a leaver whose payout the bank rejected: the list and their page show it
    await world.top_up(leaver, "2500")
    left = await client.put(
        f"/v1/schools/{world.school}/students/{leaver}/status",
        json={"status": "left", "reason": "pindah sekolah"},
        headers=world.token(Role.SCHOOL_STAFF, school=world.school),
    )
    assert left.status_code == 200, left.text
    await reject(pool, world.tenant, left.json()["payout"]["id"], "Nama pemilik rekening beda")
    username = await staff_user(pool, world)
    context = await browser.new_context(viewport=PHONE)  # type: ignore[arg-type]
    page = await context.new_page()
    await page.goto(f"{served_api}/office/students")
    await page.get_by_label("Nama pengguna").fill(username)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url(lambda url: urlsplit(url).path == "/office/students")
    for path in (*PAGES, f"/office/students/{student}", f"/office/students/{leaver}"):
        for lang in ("id", "en"):
            await page.goto(f"{served_api}/language/{lang}?next={path}")
            assert await page.evaluate("document.documentElement.lang") == lang
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{path} is {width} px wide on a 360 px screen"
            name = path.strip("/").replace("/", "-").replace(leaver, "leaver")
            name = name.replace(student, "student")
            await check(page, f"phone-{name}-{lang}")
    assert await page.get_by_role("heading", name=student).count() == 0
    # the rejected payout, in English now, and its form reached by the keyboard alone
    await page.goto(f"{served_api}/office/students")
    assert "Nama pemilik rekening beda" in await page.locator("#rejected-payouts").inner_text()
    await page.goto(f"{served_api}/office/students/{leaver}")
    send = page.get_by_role("button", name="Send again")
    for _ in range(40):
        if await send.evaluate("b => b === document.activeElement"):
            break
        await page.keyboard.press("Tab")
    assert await send.evaluate("b => b === document.activeElement"), "not reached by Tab"
    # the first thing the keyboard reaches is the skip link, and it leads to the content
    await page.goto(f"{served_api}/office/today")
    await page.keyboard.press("Tab")
    focused = await page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"
    await context.close()


async def test_staff_void_a_sale_rung_up_by_mistake_with_a_reason(
    browser: Browser, served_api: str, client: httpx.AsyncClient, stack: Settings, pool: Pool
) -> None:
    """A sale of today, voided from the payments page with a reason: the page and the
    kiosk's receipt show it voided, the money is back in the wallet through a refund posting
    that carries the reason, and the void is in the audit trail."""
    world = await build_world(stack, pool, client)
    buyer = await world.student()
    await world.top_up(buyer, "10000")
    mistake = world.kiosk_tx()
    paid = await world.pay(buyer, "4000", category_id="snacks", tx=mistake)
    assert paid["status"] == "approved" and await world.balance(buyer) == "6000.0000"
    username = await staff_user(pool, world)
    context = await browser.new_context(viewport=PHONE)  # type: ignore[arg-type]
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    await page.goto(f"{served_api}/office/payments")
    await sign_in(page, username)
    assert urlsplit(page.url).path == "/office/payments"

    row = page.locator(f'tr[data-payment="{mistake}"]')
    await row.get_by_label("Alasan (disimpan di jejak audit)").fill("Salah tekan di kasir")
    await follow(page, row.get_by_role("button", name=f"Batalkan: {mistake}"))
    assert urlsplit(page.url).query == "done=voided"
    assert "Dibatalkan" in await page.locator("#done").inner_text()
    row = page.locator(f'tr[data-payment="{mistake}"]')
    assert "dibatalkan" in await row.inner_text()
    # nothing more to give back: no refund or void for it any more
    assert await row.get_by_role("button").count() == 0
    await check(page, "08-payment-voided")

    receipt = await signed(world, world.kiosk, "GET", f"/v1/kiosk/payments/{mistake}")
    assert receipt.status_code == 200, receipt.text
    assert receipt.json()["status"] == "voided"
    assert await world.balance(buyer) == "10000.0000"
    async with pool.connection() as conn:
        posting = await (
            await conn.execute(
                "SELECT kind, memo FROM postings WHERE tenant_id = %s AND idempotency_key = %s",
                (world.tenant, f"void:kiosk:{world.kiosk.id}:{mistake}"),
            )
        ).fetchone()
        audited = await (
            await conn.execute(
                "SELECT action, reason FROM audit_log WHERE tenant_id = %s AND target = %s",
                (world.tenant, f"payment:{world.kiosk.id}/{mistake}"),
            )
        ).fetchall()
    assert posting is not None and (posting["kind"], posting["memo"]) == (
        "refund",
        "Salah tekan di kasir",
    )
    assert [(a["action"], a["reason"]) for a in audited] == [
        ("payment.void", "Salah tekan di kasir")
    ]
    verified = await Ledger(pool).verify(world.tenant)
    assert verified.ok, verified.problems
    await context.close()
    assert problems == [], "the pages logged errors (a CSP violation?)"
