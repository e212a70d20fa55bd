"""Every web page (api/web/) refuses whoever may not see it: without a session a person is
sent to sign in (303), with another role they get a 403 page, and a form posted without the
session's CSRF token is refused (403). The JSON API's own walk is test_api_auth.py."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as redis
from fastapi import FastAPI
from fastapi.routing import APIRoute

from activities.web_sessions import SESSION_COOKIE, WebSessions
from api.web.pages import SECURITY_HEADERS, PageUser, is_page
from core.security import Principal, Role
from tests.integration.test_api_auth import all_routes

pytestmark = pytest.mark.integration

# pages anyone may open, and why
PUBLIC_PAGES = {
    "/": "leads to the sign-in page, or to the signed-in person's pages",
    "/sign-in": "the sign-in page itself",
    "/language/{lang}": "remembers a language choice (no data)",
}


def page_roles(route: APIRoute) -> frozenset[Role] | None:
    for dep in route.dependant.dependencies:
        if isinstance(dep.call, PageUser):
            return dep.call.roles
    return None


def page_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    found = []
    for route in all_routes(app.routes):
        path = getattr(route, "path", "")
        if not is_page(path) or path in PUBLIC_PAGES or not isinstance(route, APIRoute):
            continue
        concrete = re.sub(r"\{(\w+)\}", "x", path)
        found += [(method, concrete, route) for method in sorted(route.methods)]
    return found


@pytest.fixture
async def browser_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://saku.test") as client:
        yield client


async def sign_in_as(client: httpx.AsyncClient, valkey: redis.Redis, role: Role) -> None:
    """`client` now carries a session of a person of this role (and only that one)."""
    principal = Principal(str(uuid.uuid4()), role, "tenant-a", "school-1", ("student-1",))
    session_id, _ = await WebSessions(valkey, 600).create(principal, f"{role.value}-user")
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, session_id)


async def test_every_page_declares_its_roles(app: FastAPI) -> None:
    routes = page_routes(app)
    assert len(routes) >= 6
    for method, path, route in routes:
        assert page_roles(route), (method, path, "needs Depends(PageUser(...)) or PageForm")


async def test_every_page_sends_a_person_without_a_session_to_sign_in(
    app: FastAPI, browser_client: httpx.AsyncClient
) -> None:
    for method, path, _ in page_routes(app):
        response = await browser_client.request(method, path)
        assert response.status_code == 303, (method, path, response.text)
        assert response.headers["location"].startswith("/sign-in"), (method, path)
        # a bearer token is no session: pages take none
        bearer = {"Authorization": "Bearer not-a-session"}
        response = await browser_client.request(method, path, headers=bearer)
        assert response.status_code == 303, (method, path)
    back = await browser_client.get("/console/cases?sort=age")
    assert back.headers["location"] == "/sign-in?next=/console/cases%3Fsort%3Dage"
    root = await browser_client.get("/")
    assert (root.status_code, root.headers["location"]) == (303, "/sign-in")


async def test_every_page_refuses_other_roles_with_a_403_page(
    app: FastAPI, browser_client: httpx.AsyncClient, valkey: redis.Redis
) -> None:
    for method, path, route in page_routes(app):
        roles = page_roles(route)
        assert roles is not None
        for role in set(Role) - roles:
            await sign_in_as(browser_client, valkey, role)
            response = await browser_client.request(method, path)
            assert response.status_code == 403, (method, path, role, response.text)
            assert "text/html" in response.headers["content-type"]
            assert "Not for your role" in response.text


async def test_every_form_refuses_a_post_without_the_sessions_csrf_token(
    app: FastAPI, browser_client: httpx.AsyncClient, valkey: redis.Redis
) -> None:
    posts = [(m, p, r) for m, p, r in page_routes(app) if m == "POST"]
    assert len(posts) >= 5
    for _, path, route in posts:
        roles = page_roles(route)
        assert roles is not None
        await sign_in_as(browser_client, valkey, next(iter(roles)))
        for form in ({}, {"csrf_token": "forged", "note": "a note", "outcome": "false_positive"}):
            response = await browser_client.post(path, data=form)
            assert response.status_code == 403, (path, form, response.text)
            assert "expired or did not come from Saku" in response.text


async def test_pages_carry_the_security_headers(
    app: FastAPI, browser_client: httpx.AsyncClient, valkey: redis.Redis
) -> None:
    signed_out = await browser_client.get("/sign-in")
    await sign_in_as(browser_client, valkey, Role.GUARDIAN)
    for response in (signed_out, await browser_client.get("/console/cases")):  # a 403 page too
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value, (response.url, name)
    csp = SECURITY_HEADERS["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    asset = await browser_client.get("/web-assets/saku.css")
    assert asset.status_code == 200 and asset.headers["x-content-type-options"] == "nosniff"


async def test_the_school_office_is_walked_and_for_school_staff_only(app: FastAPI) -> None:
    office = {(m, p) for m, p, r in page_routes(app) if p.startswith("/office")}
    # the walks above cover every one of them: the canteen day, students, leaving,
    # refunds and voids, kiosks and their keys
    assert {
        ("GET", "/office/today"),
        ("GET", "/office/students"),
        ("GET", "/office/students/x"),
        ("POST", "/office/students/x/leave"),
        ("GET", "/office/payments"),
        ("POST", "/office/payments/x/x/refund"),
        ("POST", "/office/payments/x/x/void"),
        ("GET", "/office/kiosks"),
        ("POST", "/office/kiosks"),
        ("POST", "/office/kiosks/x/keys"),
        ("POST", "/office/kiosks/x/keys/rotate"),
        ("POST", "/office/kiosks/x/keys/x/revoke"),
    } <= office
    for method, path, route in page_routes(app):
        if path.startswith("/office"):
            assert page_roles(route) == {Role.SCHOOL_STAFF}, (method, path)
