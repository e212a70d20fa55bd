"""The sign-in page in a real Chromium: Bahasa Indonesia by default, whatever language the
browser asks for (none of Saku's, or English); its language switch is on the page, reached
by the keyboard, and the choice of English is remembered through a failed and a successful
sign-in into the guardian portal (whose own default is Bahasa Indonesia) and after signing
out. An operator who chose nothing gets the console in English. Every page is
screenshotted and checked by axe-core on a 360-px phone."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Locator, Page

from activities.accounts import create_user
from api.web.pages import LANGUAGE_COOKIE
from core.db import Pool
from core.security import Role
from core.settings import Settings
from tests.browser import browser, checked, served_api
from tests.integration.guardian_world import PASSWORD, family

__all__ = ["browser", "served_api"]

pytestmark = pytest.mark.integration
PHONE = {"width": 360, "height": 740}


async def follow(page: Page, control: Locator) -> None:
    async with page.expect_navigation():
        await control.click()


async def shows_indonesian(page: Page) -> None:
    assert await page.get_attribute("html", "lang") == "id"
    await page.get_by_role("heading", name="Masuk ke Saku", level=1).wait_for()
    assert await page.get_by_label("Nama pengguna").is_visible()
    switch = page.get_by_role("navigation", name="Bahasa")
    assert await switch.get_by_role("link", name="English").is_visible()
    current = switch.get_by_role("link", name="Bahasa Indonesia")
    assert await current.get_attribute("aria-current") == "true"


@pytest.mark.parametrize(
    ("locale", "accept_language"),
    [
        ("de-DE", "de-DE,de;q=0.9"),  # asks for no language Saku has
        ("en-US", "en-US,en;q=0.9"),  # asks for English
    ],
)
async def test_the_sign_in_page_speaks_bahasa_indonesia_whatever_the_browser_asks(
    browser: Browser,
    served_api: str,
    client: httpx.AsyncClient,
    stack: Settings,
    pool: Pool,
    locale: str,
    accept_language: str,
) -> None:
    home = await family(stack, pool, client)
    operator = f"operator-{home.guardian_id}-{locale}"
    async with pool.connection() as conn:
        await create_user(
            conn,
            tenant_id=home.world.tenant,
            username=operator,
            password=PASSWORD,
            role=Role.OPERATOR,
        )
    context = await browser.new_context(
        viewport=PHONE,  # type: ignore[arg-type]
        locale=locale,
        extra_http_headers={"Accept-Language": accept_language},
    )
    page = await context.new_page()
    await page.goto(f"{served_api}/console/cases")
    assert urlsplit(page.url).path == "/sign-in"
    await shows_indonesian(page)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the sign-in page is {width} px wide"
    await checked(page, f"sign-in-{locale}")
    # a wrong password is answered in Bahasa Indonesia too
    await page.get_by_label("Nama pengguna").fill(operator)
    await page.get_by_label("Kata sandi").fill("not the password at all")
    await follow(page, page.get_by_role("button", name="Masuk"))
    assert "Nama pengguna atau kata sandi salah" in await page.get_by_role("alert").inner_text()
    await shows_indonesian(page)
    # an operator who chose no language: the console follows the browser, else English
    await page.get_by_label("Kata sandi").fill(PASSWORD)
    await follow(page, page.get_by_role("button", name="Masuk"))
    assert urlsplit(page.url).path == "/console/cases"
    assert await page.get_attribute("html", "lang") == "en"
    assert not [c for c in await context.cookies() if c["name"] == LANGUAGE_COOKIE]
    await context.close()


async def test_english_chosen_on_the_sign_in_page_is_remembered_through_sign_in(
    browser: Browser, served_api: str, client: httpx.AsyncClient, stack: Settings, pool: Pool
) -> None:
    home = await family(stack, pool, client)
    context = await browser.new_context(viewport=PHONE, locale="en-US")  # type: ignore[arg-type]
    page = await context.new_page()
    await page.goto(f"{served_api}/guardian")
    assert urlsplit(page.url).path == "/sign-in"
    await shows_indonesian(page)

    # the switch, by the keyboard: English
    english = page.get_by_role("navigation", name="Bahasa").get_by_role("link", name="English")
    await english.focus()
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert urlsplit(page.url).path == "/sign-in"
    assert urlsplit(page.url).query == "next=/guardian"  # still on the way to the portal
    assert await page.get_attribute("html", "lang") == "en"
    await page.get_by_role("heading", name="Sign in to Saku", level=1).wait_for()
    switch = page.get_by_role("navigation", name="Language")
    assert await switch.get_by_role("link", name="English").get_attribute("aria-current") == "true"
    await checked(page, "sign-in-english")
    [cookie] = [c for c in await context.cookies() if c["name"] == LANGUAGE_COOKIE]
    assert cookie["value"] == "en" and cookie["expires"] > 0  # kept, not for this visit only

    # a failed sign-in keeps the choice, and so does the one that succeeds
    await page.get_by_label("Username").fill(home.username)
    await page.get_by_label("Password").fill("not the password at all")
    await follow(page, page.get_by_role("button", name="Sign in"))
    assert "Wrong username or password." in await page.get_by_role("alert").inner_text()
    await page.get_by_label("Password").fill(PASSWORD)
    await follow(page, page.get_by_role("button", name="Sign in"))
    assert urlsplit(page.url).path == "/guardian"
    # the portal's own default is Bahasa Indonesia; the person's choice comes first
    assert await page.get_attribute("html", "lang") == "en"
    await page.get_by_role("heading", name="My children", level=1).wait_for()
    await checked(page, "sign-in-english-guardian")

    # signed out: the sign-in page still speaks English, and switches back
    await follow(page, page.get_by_role("button", name="Sign out"))
    assert urlsplit(page.url).path == "/sign-in"
    assert await page.get_attribute("html", "lang") == "en"
    await follow(page, page.get_by_role("link", name="Bahasa Indonesia"))
    await shows_indonesian(page)
    await context.close()
