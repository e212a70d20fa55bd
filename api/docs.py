"""The API's documentation pages, `/docs` (Swagger UI) and `/redoc` (ReDoc), with their
scripts, stylesheets and icon served by the API itself from the `fastapi-offline` package's
copies: FastAPI's own pages load them from a CDN and stay blank on a network without
internet, as a school's often is."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
ASSETS_URL = "/docs-assets"
# swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js and favicon.png
ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
# ReDoc's footer draws its maker's logo from their CDN: the page shows our icon instead, so
# that the page asks nothing of the internet
_REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@lru_cache(maxsize=1)
def _redoc_script() -> str:
    return (
        (ASSETS / "redoc.standalone.js")
        .read_text()
        .replace(_REDOC_LOGO, f"{ASSETS_URL}/favicon.png")
    )


def add_docs(app: FastAPI, openapi_url: str) -> None:
    """Serve the two documentation pages and their assets on `app`."""

    @app.get(f"{ASSETS_URL}/redoc.standalone.js", include_in_schema=False)
    async def redoc_script() -> Response:
        return Response(_redoc_script(), media_type="text/javascript")

    # after the route above, which takes that one file's path first
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
    title = app.title

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            oauth2_redirect_url=OAUTH2_REDIRECT_URL,
            # Swagger UI would otherwise send the schema to an online validator
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} API",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
