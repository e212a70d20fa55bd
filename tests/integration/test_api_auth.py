"""Every route but health refuses a missing token (401), a wrong role or scope (403).

Kiosk routes (under /v1/kiosk/) are the exception: a kiosk signs each request with its
Ed25519 key instead, so they refuse an unsigned request, and any bearer token, with 401.
So are the web pages (api/web/): a session cookie signs a person in there, and
tests/integration/test_web_auth.py walks them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from activities.accounts import create_tenant, create_user
from api.deps import RequireRoles
from api.kiosk_auth import KioskCaller
from api.web.pages import is_page
from core.kiosk_signing import generate_key_pair, sign_request
from core.security import Principal, Role, issue_token
from core.settings import Settings

pytestmark = pytest.mark.integration

# Routes reachable without a token, and why.
PUBLIC = {
    "/health/live": "liveness probe",
    "/health/ready": "readiness probe",
    "/auth/token": "sign-in: authenticated by username and password instead",
    "/openapi.json": "API schema (no data; SAKU_API_DOCS=false removes it)",
    "/docs": "API documentation page (no data)",
    "/docs/oauth2-redirect": "API documentation page (no data)",
    "/redoc": "API documentation page (no data)",
    "/docs-assets": "the documentation pages' scripts, styles and icon (packaged, no data)",
    "/docs-assets/redoc.standalone.js": "ReDoc's script, its logo our icon (packaged, no data)",
}
TENANT = "tenant-a"
OTHER_TENANT = "tenant-b"
SAMPLE_PATH_VALUES = {"tenant_id": TENANT, "school_id": "school-1", "student_id": "student-1"}
# Routes a kiosk calls, authenticated by its request signature (api/kiosk_auth.py) only.
KIOSK_PREFIX = "/v1/kiosk/"


def token_for(settings: Settings, role: Role, tenant: str = TENANT) -> dict[str, str]:
    principal = Principal(
        subject=str(uuid.uuid4()),
        role=role,
        tenant=tenant,
        school=SAMPLE_PATH_VALUES["school_id"],
        students=(SAMPLE_PATH_VALUES["student_id"],),
    )
    token = issue_token(
        principal, secret=settings.resolved_jwt_secret(), issuer=settings.jwt_issuer, ttl_seconds=60
    )
    return {"Authorization": f"Bearer {token}"}


def allowed_roles(route: APIRoute) -> frozenset[Role]:
    found: list[frozenset[Role]] = []

    def walk(dependant: object) -> None:
        for dep in getattr(dependant, "dependencies", []):
            if isinstance(dep.call, RequireRoles):
                found.append(dep.call.roles)
            walk(dep)

    walk(route.dependant)
    assert found, f"{route.path} declares no RequireRoles: every non-health route needs one"
    return frozenset.intersection(*found)


def all_routes(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, including those of included routers (FastAPI >= 0.160 keeps an included
    router as one entry; our routers carry their prefix themselves, so paths are final)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from all_routes(included.routes)
        else:
            yield route


def declares_kiosk_caller(route: APIRoute) -> bool:
    def walk(dependant: object) -> bool:
        return any(
            isinstance(dep.call, KioskCaller) or walk(dep)
            for dep in getattr(dependant, "dependencies", [])
        )

    return walk(route.dependant)


def concrete_routes(app: FastAPI, *, kiosk: bool) -> list[tuple[str, str, APIRoute]]:
    routes = []
    for route in all_routes(app.routes):
        path = getattr(route, "path", "")
        if path in PUBLIC or is_page(path) or path.startswith(KIOSK_PREFIX) != kiosk:
            continue
        assert isinstance(route, APIRoute), f"unexpected non-API route {path}"
        concrete = re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PATH_VALUES.get(m[1], "x"), path)
        for method in sorted(route.methods):
            routes.append((method, concrete, route))
    return routes


def protected_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    return concrete_routes(app, kiosk=False)


def kiosk_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    return concrete_routes(app, kiosk=True)


async def test_there_are_protected_routes_to_walk(app: FastAPI) -> None:
    assert len(protected_routes(app)) >= 5
    assert kiosk_routes(app), "expected kiosk routes under /v1/kiosk/"


async def test_every_kiosk_route_declares_the_kiosk_signature(app: FastAPI) -> None:
    for method, path, route in kiosk_routes(app):
        assert declares_kiosk_caller(route), (method, path, "needs Depends(KioskCaller())")


async def test_every_kiosk_route_refuses_unsigned_requests_and_bearer_tokens(
    app: FastAPI, client: httpx.AsyncClient, stack: Settings
) -> None:
    private_key, _ = generate_key_pair()
    for method, path, _route in kiosk_routes(app):
        response = await client.request(method, path)
        assert response.status_code == 401, (method, path, response.text)
        assert "kiosk signature" in response.json()["detail"]
        assert "missing header" in response.json()["detail"]
        for role in Role:  # a token, however privileged, is not a kiosk's signature
            response = await client.request(method, path, headers=token_for(stack, role))
            assert response.status_code == 401, (method, path, role, response.text)
            assert "kiosk signature" in response.json()["detail"]
        # signed by a key no kiosk has
        signed = sign_request(private_key, TENANT, "no-such-kiosk", "k_000000000000", method, path)
        response = await client.request(method, path, headers=signed)
        assert response.status_code == 401, (method, path, response.text)


async def test_every_route_refuses_a_missing_or_bad_token(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    for method, path, _ in protected_routes(app):
        response = await client.request(method, path)
        assert response.status_code == 401, (method, path, response.text)
        assert "token" in response.json()["detail"]
        forged = {"Authorization": "Bearer not.a.jwt"}
        response = await client.request(method, path, headers=forged)
        assert response.status_code == 401, (method, path, response.text)


async def test_every_route_refuses_a_token_signed_with_another_secret(
    app: FastAPI, client: httpx.AsyncClient, stack: Settings
) -> None:
    impostor = stack.model_copy(update={"jwt_secret": None, "var_dir": stack.var_dir / "x"})
    for method, path, route in protected_routes(app):
        role = next(iter(allowed_roles(route)))
        response = await client.request(method, path, headers=token_for(impostor, role))
        assert response.status_code == 401, (method, path, response.text)


async def test_every_route_refuses_other_roles(
    app: FastAPI, client: httpx.AsyncClient, stack: Settings
) -> None:
    for method, path, route in protected_routes(app):
        for role in set(Role) - allowed_roles(route):
            response = await client.request(method, path, headers=token_for(stack, role))
            assert response.status_code == 403, (method, path, role, response.text)
            assert "may not" in response.json()["detail"]


async def test_the_guardians_own_routes_are_walked_and_for_guardians_only(app: FastAPI) -> None:
    """The portal's JSON twins (/v1/guardian/...) are among the routes walked above, and
    only a guardian's token passes their role check (their own children: 404 otherwise,
    tests/integration/test_guardian_api.py)."""
    walked = {
        (method, route.path): allowed_roles(route)
        for method, _, route in protected_routes(app)
        if route.path.startswith("/v1/guardian/")
    }
    auto = "/v1/guardian/children/{child_id}/auto-topup"
    assert set(walked) == {
        ("GET", auto),
        ("PUT", auto),
        ("DELETE", auto),
        ("GET", "/v1/guardian/transfers"),
        ("POST", "/v1/guardian/transfers"),
        ("GET", "/v1/guardian/notifications"),
        ("PUT", "/v1/guardian/notifications"),
        ("PUT", "/v1/guardian/notifications/{notification_id}"),
    }
    assert set(walked.values()) == {frozenset({Role.GUARDIAN})}


async def test_every_tenant_route_refuses_another_tenant(
    app: FastAPI, client: httpx.AsyncClient, stack: Settings
) -> None:
    tenant_routes = [r for r in protected_routes(app) if "{tenant_id}" in r[2].path]
    assert tenant_routes, "expected tenant-scoped routes"
    for method, path, route in tenant_routes:
        for role in allowed_roles(route):
            headers = token_for(stack, role, tenant=OTHER_TENANT)
            response = await client.request(method, path, headers=headers)
            assert response.status_code == 403, (method, path, role, response.text)
            assert "another tenant" in response.json()["detail"]


async def test_sign_in_then_use_the_token(
    app: FastAPI, client: httpx.AsyncClient, stack: Settings
) -> None:
    username = f"admin-{uuid.uuid4().hex[:8]}"
    password = "correct horse battery staple"
    async with app.state.resources.pool.connection() as conn:
        await create_tenant(conn, TENANT, "Tenant A")
        await create_user(
            conn, tenant_id=TENANT, username=username, password=password, role=Role.ADMIN
        )

    wrong = await client.post(
        "/auth/token", data={"username": username, "password": "nope-nope-nope"}
    )
    assert wrong.status_code == 401
    unknown = await client.post("/auth/token", data={"username": "ghost", "password": password})
    assert unknown.status_code == 401
    assert unknown.json() == wrong.json()  # no hint which usernames exist

    response = await client.post("/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    me = await client.get("/auth/me", headers=headers)
    assert me.json()["role"] == "admin" and me.json()["tenant"] == TENANT

    created = await client.post(
        f"/tenants/{TENANT}/users",
        headers=headers,
        json={"username": f"ops-{uuid.uuid4().hex[:8]}", "password": "x" * 12, "role": "operator"},
    )
    assert created.status_code == 201, created.text
    listed = await client.get(f"/tenants/{TENANT}/users", headers=headers)
    assert created.json()["username"] in [u["username"] for u in listed.json()]
    assert all("password" not in key for u in listed.json() for key in u)

    duplicate = await client.post(
        f"/tenants/{TENANT}/users",
        headers=headers,
        json={"username": created.json()["username"], "password": "y" * 12, "role": "analyst"},
    )
    assert duplicate.status_code == 409
    assert "taken" in duplicate.json()["detail"]
    staff_without_school = await client.post(
        f"/tenants/{TENANT}/users",
        headers=headers,
        json={"username": "staff-x", "password": "z" * 12, "role": "school_staff"},
    )
    assert staff_without_school.status_code == 422
    # a 422 lists its problems (loc, msg, type), whoever found them
    [problem] = staff_without_school.json()["detail"]
    assert "school" in problem["msg"]


async def test_health_needs_no_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health/live")).status_code == 200
    ready = await client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    names = {c["name"]: c for c in ready.json()["components"]}
    assert set(names) == {"postgres", "valkey", "temporal", "kafka"}
    assert all(c["healthy"] for c in names.values())


async def test_metrics_are_prometheus_text_for_operators(
    client: httpx.AsyncClient, stack: Settings
) -> None:
    await client.get("/health/live")
    response = await client.get("/metrics", headers=token_for(stack, Role.OPERATOR))
    assert response.status_code == 200
    assert (
        'saku_http_requests_total{method="GET",route="/health/live",status="200"}' in response.text
    )
