"""The guardian portal over HTTP: a guardian sees only their own children (another child is
not found, other roles are refused), limits and category blocks apply to the next payment
and are audited, the history filters and downloads as CSV, money moves between siblings
once per request, notifications are read and unread, and every amount and text is bounded
with a clear 4xx."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import redis.asyncio as redis
from fastapi import FastAPI

from activities.accounts import create_user
from api.routes.kiosk_payments import pin_failures_key
from api.web.pages import LANGUAGE_COOKIE
from core.db import Pool
from core.security import Role, verify_password
from core.settings import Settings
from tests.integration.case_world import PASSWORD, csrf_of, signed_in
from tests.integration.guardian_world import Family, family, sold_offline
from tests.integration.wallet_world import PIN

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def home(stack: Settings, pool: Pool, client: httpx.AsyncClient) -> Family:
    return await family(stack, pool, client)


@pytest.fixture
async def guardian(app: FastAPI, home: Family) -> AsyncIterator[httpx.AsyncClient]:
    signed = await signed_in(app, home.username)
    assert 'lang="id"' in (await signed.get("/guardian")).text  # Bahasa Indonesia by default
    signed.cookies.set(LANGUAGE_COOKIE, "en")  # these tests read English
    yield signed
    await signed.aclose()


async def form_post(
    client: httpx.AsyncClient, page: str, action: str, data: dict[str, str]
) -> httpx.Response:
    """Open the page, then post one of its forms with the session's CSRF token."""
    opened = await client.get(page)
    assert opened.status_code == 200, opened.text
    return await client.post(action, data={"csrf_token": csrf_of(opened.text), **data})


def child(home: Family, n: int, page: str) -> str:
    return f"/guardian/children/{home.children[n]}/{page}"


async def test_a_guardian_sees_their_two_children_and_no_one_elses(
    home: Family, guardian: httpx.AsyncClient, app: FastAPI, pool: Pool
) -> None:
    page = await guardian.get("/guardian")
    assert page.status_code == 200
    assert "Budi" in page.text and "Sari" in page.text
    assert home.stranger not in page.text
    assert (await guardian.get("/")).headers["location"] == "/guardian"
    stranger = f"/guardian/children/{home.stranger}"
    for path in (f"{stranger}/history", f"{stranger}/history.csv", f"{stranger}/settings"):
        response = await guardian.get(path)
        assert response.status_code == 404, path
    token = csrf_of((await guardian.get(child(home, 0, "settings"))).text)
    for action, data in (
        (f"{stranger}/limits", {"daily_limit": "1000"}),
        (f"{stranger}/pin", {"pin": "1234", "pin_again": "1234"}),
        (f"{stranger}/auto-topup", {"below": "1000", "topup_amount": "1000"}),
        (f"{stranger}/consent", {"decision": "withdraw"}),
        (
            "/guardian/transfer",
            {
                "from": home.children[0],
                "to": home.stranger,
                "amount": "100",
                "request_id": "r" * 12,
            },
        ),
        (
            "/guardian/transfer",
            {
                "from": home.stranger,
                "to": home.children[0],
                "amount": "100",
                "request_id": "s" * 12,
            },
        ),
    ):
        response = await guardian.post(action, data={"csrf_token": token, **data})
        assert response.status_code == 404, (action, response.text)
    # staff of the same tenant: not a guardian, refused the guardian's pages
    async with pool.connection() as conn:
        await create_user(
            conn,
            tenant_id=home.world.tenant,
            username=f"staff-{home.guardian_id}",
            password=PASSWORD,
            role=Role.SCHOOL_STAFF,
            school_id=home.world.school,
        )
    staff = await signed_in(app, f"staff-{home.guardian_id}")
    try:
        for path in ("/guardian", child(home, 0, "history"), child(home, 0, "settings")):
            assert (await staff.get(path)).status_code == 403, path
    finally:
        await staff.aclose()


async def test_limits_and_blocks_apply_to_the_next_payment_are_audited_and_listed(
    home: Family, guardian: httpx.AsyncClient, pool: Pool
) -> None:
    world, budi = home.world, home.children[0]
    settings = child(home, 0, "settings")
    done = await form_post(
        guardian,
        settings,
        child(home, 0, "limits"),
        {"daily_limit": "5.000", "weekly_limit": "", "low_balance_threshold": "10000"},
    )
    assert (done.status_code, done.headers["location"]) == (303, f"{settings}?done=limits")
    over = await world.pay(budi, "6000")
    assert (over["status"], over["reason_code"]) == ("declined", "daily_limit")
    done = await form_post(
        guardian, settings, child(home, 0, "categories/snacks"), {"blocked": "1"}
    )
    assert done.status_code == 303
    blocked = await world.pay(budi, "1000", category_id="snacks")
    assert (blocked["status"], blocked["reason_code"]) == ("declined", "category_blocked")
    meal = await world.pay(budi, "2000", category_id="meals")
    assert meal["status"] == "approved"
    # a per-category daily limit: books unlimited, meals at most 2,500 a day
    await form_post(
        guardian, settings, child(home, 0, "categories/meals"), {"category_limit": "2500"}
    )
    second = await world.pay(budi, "1000", category_id="meals")
    assert (second["status"], second["reason_code"]) == ("declined", "category_limit")
    history = await guardian.get(child(home, 0, "history"))
    assert blocked["reference"] in history.text and "Snacks is blocked" in history.text
    assert "Daily limit reached." in history.text
    # in Bahasa Indonesia, the reasons too
    guardian.cookies.set(LANGUAGE_COOKIE, "id")
    indonesian = await guardian.get(child(home, 0, "history"))
    guardian.cookies.set(LANGUAGE_COOKIE, "en")
    assert 'lang="id"' in indonesian.text
    assert "Snacks diblokir oleh orang tua." in indonesian.text
    assert "Batas harian untuk Meals tercapai." in indonesian.text
    page = (await guardian.get(settings)).text
    assert 'value="5000"' in page and 'value="2500"' in page
    async with pool.connection() as conn:
        rows = await (
            await conn.execute(
                "SELECT action, actor_role, details FROM audit_log WHERE tenant_id = %s "
                "AND target = %s ORDER BY id",
                (world.tenant, f"student:{budi}"),
            )
        ).fetchall()
    assert [r["action"] for r in rows] == [
        "controls.set",
        "controls.category_set",
        "controls.category_set",
    ]
    assert {r["actor_role"] for r in rows} == {"guardian"}
    assert rows[0]["details"]["daily_limit"] == "5000"
    # notified: the declines reached the guardian's inbox, unread
    inbox = await guardian.get("/guardian/notifications")
    assert "payment of Rp 1,000 was declined" in inbox.text
    assert inbox.text.count('class="unread"') >= 3
    await form_post(guardian, "/guardian/notifications", "/guardian/notifications/read", {})
    inbox = await guardian.get("/guardian/notifications")
    assert 'class="unread"' not in inbox.text


async def test_the_history_filters_and_downloads_as_csv(
    home: Family, guardian: httpx.AsyncClient
) -> None:
    sari = home.children[1]
    await home.world.pay(sari, "3000", category_id="meals")
    everything = await guardian.get(child(home, 1, "history.csv"))
    assert everything.status_code == 200
    assert everything.headers["content-type"].startswith("text/csv")
    assert "attachment" in everything.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(everything.text)))
    assert {r["kind"] for r in rows} == {"purchase", "topup"}
    purchase = next(r for r in rows if r["kind"] == "purchase")
    assert (purchase["amount"], purchase["category"], purchase["kiosk"]) == (
        "3000.0000",
        "Meals",
        "Till",
    )
    topups = list(
        csv.DictReader(
            io.StringIO((await guardian.get(child(home, 1, "history.csv") + "?kind=topup")).text)
        )
    )
    assert [r["kind"] for r in topups] == ["topup"]
    future = await guardian.get(child(home, 1, "history") + "?since=2999-01-01")
    assert "Nothing in this period." in future.text
    assert (await guardian.get(child(home, 1, "history") + "?kind=bets")).status_code == 400
    bad_date = await guardian.get(child(home, 1, "history") + "?since=yesterday")
    assert bad_date.status_code == 400 and "enter a date like" in bad_date.text


async def test_money_moves_between_siblings_once_per_request(
    home: Family, guardian: httpx.AsyncClient
) -> None:
    world = home.world
    budi, sari = home.children
    before = (Decimal(await world.balance(budi)), Decimal(await world.balance(sari)))
    page = await guardian.get("/guardian/transfer")
    token = csrf_of(page.text)
    form = {
        "csrf_token": token,
        "from": budi,
        "to": sari,
        "amount": "4000",
        "request_id": "req-once-12345",
    }
    for _ in range(2):  # the same request twice (a double tap, a resent form): moved once
        response = await guardian.post("/guardian/transfer", data=form)
        assert response.status_code == 303, response.text
    after = (Decimal(await world.balance(budi)), Decimal(await world.balance(sari)))
    assert after == (before[0] - 4000, before[1] + 4000)
    reused = await guardian.post("/guardian/transfer", data=form | {"amount": "5000"})
    assert reused.status_code == 409 and "used for another transfer" in reused.text
    too_much = await guardian.post(
        "/guardian/transfer", data=form | {"amount": "1900000", "request_id": "req-big-12345"}
    )
    assert too_much.status_code == 409 and "not enough money" in too_much.text
    history = (await guardian.get(child(home, 1, "history") + "?kind=transfer")).text
    assert "From a sibling" in history and "req-once-12345" in history


async def test_every_amount_and_text_is_bounded_with_a_clear_4xx(
    home: Family, guardian: httpx.AsyncClient, pool: Pool, valkey: redis.Redis
) -> None:
    settings = child(home, 0, "settings")
    token = csrf_of((await guardian.get(settings)).text)

    async def post(action: str, **data: str) -> httpx.Response:
        return await guardian.post(action, data={"csrf_token": token, **data})

    limits = child(home, 0, "limits")
    for value, words in (
        ("abc", "enter a whole amount"),
        ("-5", "enter a whole amount"),
        ("10.5", "enter a whole amount"),
        ("10.500", None),  # a thousands dot, as rupiah are written
        ("12,5e3", "enter a whole amount"),
        ("9" * 16, "enter a whole amount"),
        ("3000000", "at most 2,000,000"),
    ):
        response = await post(limits, daily_limit=value)
        if words is None:
            assert response.status_code == 303
        else:
            assert response.status_code == 422, (value, response.text)
            assert words in response.text, value
    assert (await post(child(home, 0, "auto-topup"), below="", topup_amount="1")).status_code == 422
    assert (
        await post(child(home, 0, "auto-topup"), below="0", topup_amount="1")
    ).status_code == 422
    assert (await post(child(home, 0, "pin"), pin="12", pin_again="12")).status_code == 422
    assert (await post(child(home, 0, "pin"), pin="1234", pin_again="4321")).status_code == 422
    assert (await post(child(home, 0, "consent"), decision="refuse")).status_code == 422
    assert (await post(child(home, 0, "categories/no-such"), blocked="1")).status_code == 404
    long_id = "x" * 65
    assert (await guardian.get(f"/guardian/children/{long_id}/history")).status_code == 404
    transfer = {"from": home.children[0], "to": home.children[1], "amount": "100"}
    bad_id = await post("/guardian/transfer", **transfer, request_id="short")
    assert bad_id.status_code == 400
    same = await post(
        "/guardian/transfer", **(transfer | {"to": home.children[0]}), request_id="same-child-123"
    )
    assert same.status_code == 409
    assert (await post("/guardian/notifications/read", id="12ab")).status_code == 400
    # the child had locked their PIN with wrong tries: the new one works at once
    locked = pin_failures_key(home.world.tenant, home.children[0])
    await valkey.set(locked, 5)
    pin = await post(child(home, 0, "pin"), pin="8642", pin_again="8642")
    assert pin.status_code == 303
    assert await valkey.exists(locked) == 0
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "SELECT s.pin_hash, (SELECT count(*) FROM audit_log a WHERE a.tenant_id = "
                "s.tenant_id AND a.action = 'pin.reset' AND a.target = 'student:' || s.id) AS n "
                "FROM students s WHERE s.tenant_id = %s AND s.id = %s",
                (home.world.tenant, home.children[0]),
            )
        ).fetchone()
    assert row is not None and row["n"] == 1
    assert verify_password(row["pin_hash"], "8642") and not verify_password(row["pin_hash"], PIN)


async def test_an_auto_top_up_is_asked_for_once_per_crossing_and_never_past_the_cap(
    stack: Settings, pool: Pool, client: httpx.AsyncClient, app: FastAPI
) -> None:
    own = await family(stack, pool, client)
    budi = own.children[0]
    signed = await signed_in(app, own.username)
    signed.cookies.set(LANGUAGE_COOKIE, "en")
    try:
        settings = f"/guardian/children/{budi}/settings"
        done = await form_post(
            signed,
            settings,
            f"/guardian/children/{budi}/auto-topup",
            {"below": "48000", "topup_amount": "1990000"},
        )
        assert done.status_code == 303
        page = (await signed.get(settings)).text
        assert "below Rp 48,000, ask for Rp 1,990,000" in page
    finally:
        await signed.aclose()
    crossing = await own.world.pay(budi, "3000")  # 50,000 -> 47,000: below 48,000
    await own.world.pay(budi, "1000")  # still below: no second request
    async with pool.connection() as conn:
        rows = await (
            await conn.execute(
                "SELECT id, amount, cause, virtual_account FROM topup_requests "
                "WHERE tenant_id = %s AND student_id = %s",
                (own.world.tenant, budi),
            )
        ).fetchall()
        audited = await (
            await conn.execute(
                "SELECT details FROM audit_log WHERE tenant_id = %s AND action = %s",
                (own.world.tenant, "auto_topup.set"),
            )
        ).fetchall()
    assert len(rows) == 1
    # never past the e-money cap (2,000,000): 47,000 + 1,953,000
    assert rows[0]["amount"] == Decimal(1_953_000)
    assert rows[0]["cause"].endswith(crossing["reference"])
    assert [a["details"] for a in audited] == [{"below": "48000", "amount": "1990000"}]


async def test_a_guardian_records_their_own_fingerprint_decision_and_withdraws_it(
    home: Family, guardian: httpx.AsyncClient, pool: Pool
) -> None:
    settings = child(home, 1, "settings")
    consent = child(home, 1, "consent")
    assert 'data-consent="not-allowed"' in (await guardian.get(settings)).text
    done = await form_post(guardian, settings, consent, {"decision": "consent"})
    assert done.headers["location"] == f"{settings}?done=consent"
    page = (await guardian.get(settings)).text
    assert 'data-consent="allowed"' in page and "1 guardian(s) consent" in page
    await form_post(guardian, settings, consent, {"decision": "withdraw"})
    page = (await guardian.get(settings)).text
    assert 'data-consent="not-allowed"' in page and "consent was withdrawn" in page
    async with pool.connection() as conn:
        parties = await (
            await conn.execute(
                "SELECT party, decision FROM biometric_consent_events "
                "WHERE tenant_id = %s AND student_id = %s ORDER BY at, id",
                (home.world.tenant, home.children[1]),
            )
        ).fetchall()
    assert [(p["party"], p["decision"]) for p in parties] == [
        (f"guardian:{home.guardian_id}", "consent"),
        (f"guardian:{home.guardian_id}", "withdraw"),
    ]


async def test_reasons_from_the_stores_read_in_bahasa_indonesia(
    app: FastAPI, stack: Settings, pool: Pool, client: httpx.AsyncClient
) -> None:
    """The consent status's reason, a refused transfer and a declined payment's notification
    come from the stores in English; an Indonesian page says them in Bahasa Indonesia."""
    own = await family(stack, pool, client)
    budi, sari = own.children
    signed = await signed_in(app, own.username)  # nobody chose: Bahasa Indonesia
    try:
        settings = f"/guardian/children/{sari}/settings"
        page = (await signed.get(settings)).text
        assert 'lang="id"' in page and 'data-reason="no_consent"' in page
        assert "belum ada wali yang menyetujui" in page
        assert "no guardian has consented" not in page
        await form_post(
            signed, settings, f"/guardian/children/{sari}/consent", {"decision": "consent"}
        )
        page = (await signed.get(settings)).text
        assert "1 wali menyetujui, tidak ada yang keberatan" in page
        assert "guardian(s)" not in page

        refused = await form_post(
            signed,
            "/guardian/transfer",
            "/guardian/transfer",
            {"from": budi, "to": sari, "amount": "60000", "request_id": "indonesia-001"},
        )
        assert refused.status_code == 409
        assert "uang di dompet itu tidak cukup" in refused.text
        assert "not enough money" not in refused.text

        budi_settings = f"/guardian/children/{budi}/settings"
        await form_post(
            signed, budi_settings, f"/guardian/children/{budi}/categories/snacks", {"blocked": "1"}
        )
        blocked = await own.world.pay(budi, "1000", category_id="snacks")
        assert blocked["reason_code"] == "category_blocked"
        notices = (await signed.get("/guardian/notifications")).text
        assert "Snacks diblokir oleh orang tua." in notices
        assert "blocked by your parent" not in notices
    finally:
        await signed.aclose()


def history_row(page: str, reference: str) -> str:
    """The history table's row of this movement, as HTML."""
    found = re.search(rf'<tr data-reference="{re.escape(reference)}".*?</tr>', page, re.S)
    assert found is not None, reference
    return found.group(0)


async def test_the_history_shows_an_offline_sale_and_the_debt_it_left(
    app: FastAPI, stack: Settings, pool: Pool, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """A kiosk sells offline more than the wallet holds; once its journal is synced the
    guardian's history lists the sale as offline with what it left owed, and the overview,
    the CSV and the notifications say so too."""
    own = await family(stack, pool, client)
    budi = own.children[0]
    online = await own.world.pay(budi, "40000")  # 50,000 - 40,000: 10,000 left
    assert online["status"] == "approved"
    [offline] = await sold_offline(own.world, pool, budi, ["15000"], tmp_path)
    signed = await signed_in(app, own.username)
    signed.cookies.set(LANGUAGE_COOKIE, "en")
    try:
        history = child(own, 0, "history")
        page = (await signed.get(history)).text
        row = history_row(page, offline)
        assert "offline sale" in row and "owed Rp 5,000" in row, row
        assert "Rp 15,000" in row and 'data-status="approved"' in row
        assert "offline sale" not in history_row(page, online["reference"])
        overview = (await signed.get("/guardian")).text
        assert "Owed for offline sales: Rp 5,000" in overview
        table = list(csv.DictReader(io.StringIO((await signed.get(f"{history}.csv")).text)))
        [sale] = [r for r in table if r["reference"] == offline]
        assert (sale["offline"], Decimal(sale["debt"])) == ("yes", Decimal(5000))
        notices = (await signed.get("/guardian/notifications")).text
        assert "an offline sale of Rp 15,000 left Rp 5,000 owed" in notices
        signed.cookies.set(LANGUAGE_COOKIE, "id")
        row = history_row((await signed.get(history)).text, offline)
        assert "penjualan offline" in row and "utang Rp 5.000" in row, row
    finally:
        await signed.aclose()
