"""Saku's web pages, served by the API: the sign-in, the operators' case console, and the
school office and the guardian portal.
`install` adds them to the app (see `pages` for what every page shares)."""

from __future__ import annotations

from fastapi import FastAPI

from api.web import console, guardian, office, sign_in
from api.web.pages import ASSETS_URL, Assets, install_errors


def install(app: FastAPI) -> None:
    install_errors(app)
    app.mount(ASSETS_URL, Assets(), name="web-assets")
    app.include_router(sign_in.router)
    app.include_router(console.router)
    app.include_router(office.router)
    app.include_router(guardian.router)
