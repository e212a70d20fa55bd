"""The API's documentation pages work without internet: `/docs` and `/redoc` name no other
host, and every script, stylesheet and icon they load is served by the API itself. With
`SAKU_API_DOCS` off, neither the pages nor their assets are there."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest

from api.app import create_app
from core.settings import Settings


class _References(HTMLParser):
    """The URLs a page loads: script sources and link targets (stylesheets, icons)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


def docs_client(enabled: bool) -> httpx.AsyncClient:
    settings = Settings(SAKU_API_DOCS=enabled)
    transport = httpx.ASGITransport(app=create_app(settings))
    return httpx.AsyncClient(transport=transport, base_url="http://saku.test")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_pages_load_everything_from_the_api_itself(page: str) -> None:
    async with docs_client(enabled=True) as client:
        response = await client.get(page)
        assert response.status_code == 200
        html = response.text
        # no other host anywhere in the page: no CDN, no fonts, no online validator
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]", html, re.IGNORECASE), html
        parser = _References()
        parser.feed(html)
        assert any(url.endswith(".js") for url in parser.urls), parser.urls
        for url in parser.urls:
            assert url.startswith("/") and not url.startswith("//"), url
            asset = await client.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 1000, url  # the real file, not a stub
        assert (await client.get("/openapi.json")).json()["info"]["title"] == "Saku"


async def test_the_swagger_page_runs_swagger_ui_on_saku_s_schema() -> None:
    async with docs_client(enabled=True) as client:
        html = (await client.get("/docs")).text
        bundle = await client.get("/docs-assets/swagger-ui-bundle.js")
    assert "SwaggerUIBundle(" in html and "'/openapi.json'" in html
    assert "javascript" in bundle.headers["content-type"]
    # Swagger UI 5 or later: FastAPI's schema is OpenAPI 3.1, which version 4 cannot show
    version = re.search(rb'PACKAGE_VERSION:"(\d+)\.\d+\.\d+"', bundle.content)
    assert version is not None and int(version[1]) >= 5


async def test_with_docs_off_there_are_no_pages_and_no_assets() -> None:
    async with docs_client(enabled=False) as client:
        for path in ("/docs", "/redoc", "/openapi.json", "/docs-assets/swagger-ui-bundle.js"):
            assert (await client.get(path)).status_code == 404, path
