"""The API's documentation pages render in a real Chromium from the package's own assets:
nothing is fetched from outside the API (a school's network often has no internet)."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.async_api import Browser

from tests.browser import browser, screenshot, served_api

__all__ = ["browser", "served_api"]


async def test_swagger_ui_renders_offline(browser: Browser, served_api: str) -> None:
    page = await browser.new_page()
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    await page.goto(f"{served_api}/docs")
    # the operations list is drawn by Swagger UI's script from the schema
    await page.wait_for_selector(".opblock-summary", timeout=15_000)
    assert await page.locator(".opblock-summary").count() > 10
    await screenshot(page, "docs-swagger-ui")
    assert hosts == {urlsplit(served_api).netloc}, hosts
    await page.close()


async def test_redoc_renders_offline(browser: Browser, served_api: str) -> None:
    page = await browser.new_page()
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    await page.goto(f"{served_api}/redoc")
    await page.wait_for_selector("[role=navigation], .menu-content", timeout=15_000)
    await screenshot(page, "docs-redoc")
    assert hosts == {urlsplit(served_api).netloc}, hosts
    await page.close()
