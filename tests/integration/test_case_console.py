"""The case console over HTTP (the browser walk is test_case_console_browser.py): signing in
with the token endpoint's users and lockout, the queue, a case explained, four-eyes on an
interdicted transaction through pages and the JSON API, the append-only audit trail, and
what each person may not see or do."""

from __future__ import annotations

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from temporalio.client import Client

from api.web.pages import LANGUAGE_COOKIE
from core.cases import case_workflow_id
from core.db import Pool
from core.security import Principal, Role, issue_token
from core.settings import Settings
from tests.integration.case_world import (
    PASSWORD,
    CaseWorld,
    case_world,
    csrf_of,
    raise_alert,
    signed_in,
)
from tests.stackutil import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def world(pool: Pool, bank: str) -> CaseWorld:
    return await case_world(pool, bank)


def bearer(settings: Settings, role: Role, tenant: str, who: str) -> dict[str, str]:
    token = issue_token(
        Principal(who, role, tenant),
        secret=settings.resolved_jwt_secret(),
        issuer=settings.jwt_issuer,
        ttl_seconds=300,
    )
    return {"Authorization": f"Bearer {token}"}


async def post_form(
    client: httpx.AsyncClient, page: str, action: str, fields: dict[str, str]
) -> httpx.Response:
    """Post a form of `page` as a browser would: with the CSRF token the page carries."""
    html = (await client.get(page)).text
    return await client.post(action, data={**fields, "csrf_token": csrf_of(html)})


async def test_an_interdicted_case_closes_only_with_a_second_persons_confirmation(
    app: FastAPI, client: httpx.AsyncClient, stack: Settings, world: CaseWorld, temporal: Client
) -> None:
    alert_id = await raise_alert(client, stack, world.tenant)
    page = f"/console/cases/{alert_id}"
    operator = await signed_in(app, world.usernames["operator"])
    supervisor = await signed_in(app, world.usernames["supervisor"])
    second = await signed_in(app, world.usernames["supervisor2"])
    try:
        queue = await operator.get("/console/cases")
        assert queue.status_code == 200 and alert_id in queue.text
        assert "hand@1" in queue.text and "600,000,000 IDR" in queue.text
        case = await operator.get(page)
        assert case.status_code == 200
        # explained: the typology against its thresholds, each rule's value and band
        assert "typology hand@1 scored 400 &gt;= 350" in case.text
        # rule 091 measures the amount against the reporting threshold: 600M / 500M
        assert '<td data-label="Measured" class="num">1.20</td>' in case.text
        assert "value &gt;= 1</td>" in case.text
        assert "No event-flow condition applied." in case.text
        assert f"/workflows/{case_workflow_id(world.tenant, alert_id)}" in case.text

        assigned = await post_form(operator, page, f"{page}/assignment", {"next": page})
        assert (assigned.status_code, assigned.headers["location"]) == (303, page)
        noted = await post_form(operator, page, f"{page}/notes", {"note": "account opened today"})
        assert noted.status_code == 303
        decided = await post_form(
            operator,
            page,
            f"{page}/decision",
            {"outcome": "confirmed_fraud", "note": "mule account"},
        )
        assert decided.status_code == 303 and "done=sent" in decided.headers["location"]
        case = await operator.get(page)
        assert "awaiting confirmation" in case.text and 'id="confirm-form"' not in case.text

        # the operator may not confirm at all; a supervisor who decided may not confirm
        # their own decision (JSON API: the same rule)
        refused = await operator.post(f"{page}/confirmation", data={"csrf_token": "x"})
        assert refused.status_code == 403
        looked = await post_form(second, page, f"{page}/notes", {"note": "looking at it"})
        assert looked.status_code == 303
        confirmed = await post_form(
            supervisor, page, f"{page}/confirmation", {"note": "agreed, report it"}
        )
        assert confirmed.status_code == 303 and "done=sent" in confirmed.headers["location"]
        result = await temporal.get_workflow_handle(
            case_workflow_id(world.tenant, alert_id)
        ).result()
        assert result == "confirmed_fraud"
        case = await supervisor.get(page)
        assert "decided" in case.text and world.usernames["supervisor"] in case.text

        trail = await client.get(
            f"/tenants/{world.tenant}/cases/{alert_id}",
            headers=bearer(stack, Role.ADMIN, world.tenant, "admin-ana"),
        )
        assert trail.status_code == 200
        body = trail.json()
        assert (body["status"], body["outcome"]) == ("decided", "confirmed_fraud")
        actions = [(e["action"], e["actor_role"]) for e in body["trail"]]
        for step in [
            ("viewed", "operator"),
            ("assigned", "operator"),
            ("noted", "operator"),
            ("decided", "operator"),
            ("noted", "supervisor"),
            ("confirmed", "supervisor"),
            ("viewed", "admin"),
        ]:
            assert step in actions, (step, actions)
        assert actions.index(("decided", "operator")) < actions.index(("confirmed", "supervisor"))
    finally:
        for session in (operator, supervisor, second):
            await session.aclose()


async def test_four_eyes_through_the_json_api(
    client: httpx.AsyncClient, stack: Settings, world: CaseWorld, temporal: Client
) -> None:
    alert_id = await raise_alert(client, stack, world.tenant)
    base = f"/tenants/{world.tenant}/cases/{alert_id}"
    sari = bearer(stack, Role.SUPERVISOR, world.tenant, "supervisor-sari")
    budi = bearer(stack, Role.SUPERVISOR, world.tenant, "supervisor-budi")
    rina = bearer(stack, Role.OPERATOR, world.tenant, "operator-rina")
    assert (await client.post(f"{base}/assignment", headers=rina)).status_code == 204
    note = await client.post(f"{base}/notes", json={"note": "called the bank"}, headers=rina)
    assert note.status_code == 201
    early = await client.post(f"{base}/confirmation", json={"note": "too soon"}, headers=budi)
    assert early.status_code == 409 and "awaits no confirmation" in early.json()["detail"]
    decided = await client.post(
        f"{base}/decision", json={"outcome": "false_positive", "note": "school fees"}, headers=sari
    )
    assert decided.status_code == 202, decided.text

    async def awaiting() -> bool:
        return (await client.get(base, headers=rina)).json()["status"] == "awaiting_confirmation"

    assert await eventually(awaiting, timeout=20)
    again = await client.post(
        f"{base}/decision",
        json={"outcome": "confirmed_fraud", "note": "a second opinion"},
        headers=rina,
    )
    assert again.status_code == 409
    by_operator = await client.post(f"{base}/confirmation", json={"note": "ok"}, headers=rina)
    assert by_operator.status_code == 403
    own = await client.post(f"{base}/confirmation", json={"note": "mine"}, headers=sari)
    assert own.status_code == 409 and "four eyes" in own.json()["detail"]
    confirmed = await client.post(f"{base}/confirmation", json={"note": "agreed"}, headers=budi)
    assert confirmed.status_code == 202, confirmed.text
    handle = temporal.get_workflow_handle(case_workflow_id(world.tenant, alert_id))
    assert await handle.result() == "false_positive"
    case = (await client.get(base, headers=rina)).json()
    assert (case["decided_by"], case["confirmed_by"]) == ("supervisor-sari", "supervisor-budi")


async def test_a_case_not_interdicted_closes_on_the_decision_alone(
    client: httpx.AsyncClient, stack: Settings, pool: Pool, bank: str, temporal: Client
) -> None:
    world = await case_world(pool, bank, interdict=1_000)  # 400 alerts, does not interdict
    alert_id = await raise_alert(client, stack, world.tenant)
    decided = await client.post(
        f"/tenants/{world.tenant}/cases/{alert_id}/decision",
        json={"outcome": "false_positive", "note": "known payer"},
        headers=bearer(stack, Role.OPERATOR, world.tenant, "operator-rina"),
    )
    assert decided.status_code == 202
    handle = temporal.get_workflow_handle(case_workflow_id(world.tenant, alert_id))
    assert await handle.result() == "false_positive"


async def test_the_audit_trail_is_append_only_in_the_database(
    client: httpx.AsyncClient, stack: Settings, world: CaseWorld, pool: Pool
) -> None:
    alert_id = await raise_alert(client, stack, world.tenant)
    base = f"/tenants/{world.tenant}/cases/{alert_id}"
    rina = bearer(stack, Role.OPERATOR, world.tenant, "operator-rina")
    assert (await client.post(f"{base}/notes", json={"note": "first"}, headers=rina)).is_success
    for statement in (
        "UPDATE case_events SET note = 'rewritten' WHERE tenant_id = %s",
        "DELETE FROM case_events WHERE tenant_id = %s",
    ):
        async with pool.connection() as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                await conn.execute(statement, (world.tenant,))
    async with pool.connection() as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            await conn.execute("TRUNCATE case_events CASCADE")


async def test_another_tenants_case_is_invisible(
    app: FastAPI, client: httpx.AsyncClient, stack: Settings, pool: Pool, world: CaseWorld
) -> None:
    alert_id = await raise_alert(client, stack, world.tenant)
    other = await case_world(pool, f"{world.tenant}-other")
    outsider = await signed_in(app, other.usernames["operator"])
    try:
        page = f"/console/cases/{alert_id}"
        assert (await outsider.get(page)).status_code == 404
        queue = await outsider.get("/console/cases")
        assert alert_id not in queue.text
        assigned = await post_form(outsider, "/console/cases", f"{page}/assignment", {})
        assert assigned.status_code == 404
    finally:
        await outsider.aclose()


async def test_guardians_and_analysts_get_403_on_case_pages_and_routes(
    app: FastAPI, client: httpx.AsyncClient, stack: Settings, world: CaseWorld
) -> None:
    alert_id = await raise_alert(client, stack, world.tenant)
    for role in ("guardian", "analyst"):
        session = await signed_in(app, world.usernames[role])
        try:
            for page in ("/console/cases", f"/console/cases/{alert_id}"):
                assert (await session.get(page)).status_code == 403, (role, page)
            home = await session.get("/")
            if role == "guardian":  # their own pages: the guardian portal
                assert (home.status_code, home.headers["location"]) == (303, "/guardian")
            else:
                assert home.status_code == 200 and "no pages for your role" in home.text
        finally:
            await session.aclose()
    guardian = bearer(stack, Role.GUARDIAN, world.tenant, "guardian-x")
    refused = await client.get(f"/tenants/{world.tenant}/cases/{alert_id}", headers=guardian)
    assert refused.status_code == 403


async def test_sign_in_uses_the_token_endpoints_passwords_and_lockout(
    app: FastAPI, stack: Settings, world: CaseWorld
) -> None:
    username = world.usernames["operator"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://saku.test"
    ) as browser:
        browser.cookies.set(LANGUAGE_COOKIE, "en")  # an operator who reads English
        without_csrf = await browser.post(
            "/sign-in", data={"username": username, "password": PASSWORD}
        )
        assert without_csrf.status_code == 403
        form = without_csrf  # a fresh form, as a browser shows it
        for _ in range(stack.sign_in_failures_per_user):
            wrong = await browser.post(
                "/sign-in",
                data={"username": username, "password": "x" * 12, "csrf_token": csrf_of(form.text)},
            )
            assert wrong.status_code == 401 and "Wrong username or password" in wrong.text
            form = wrong
        locked = await browser.post(
            "/sign-in",
            data={"username": username, "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        )
        assert locked.status_code == 429 and "Retry-After" in locked.headers
        token = await browser.post("/auth/token", data={"username": username, "password": PASSWORD})
        assert token.status_code == 429  # the same lockout for the JSON API


async def test_session_cookies_are_httponly_strict_and_secure_over_https(
    app: FastAPI, world: CaseWorld
) -> None:
    for https in (False, True):
        session = await signed_in(app, world.usernames["supervisor"], https=https)
        try:
            [cookie] = [c for c in session.cookies.jar if c.name == "saku_session"]
            assert cookie.has_nonstandard_attr("HttpOnly")
            assert cookie.get_nonstandard_attr("SameSite", "").lower() == "strict"
            assert cookie.secure is https
            page = await session.get("/console/cases")
            assert page.status_code == 200
            signed_out = await session.post("/sign-out", data={"csrf_token": csrf_of(page.text)})
            assert signed_out.status_code == 303
            # the session is gone on the server, not only in this browser
            session.cookies.set("saku_session", cookie.value or "")
            again = await session.get("/console/cases")
            assert again.status_code == 303
        finally:
            await session.aclose()
