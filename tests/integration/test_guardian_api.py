"""The guardian portal's JSON twins over the real API and stack: a guardian signed in with a
password (a real token from /auth/token) reads, sets and switches off a child's auto
top-up, moves money between their children once per Idempotency-Key, and pages through and
marks their notifications. Another family's child is not found, another tenant's guardian
finds nothing, other roles are refused, and every bad amount and key is a 4xx with its
reason. Wallets' virtual account numbers are allocated, unique and stable, and a top-up to
one reaches its wallet."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import httpx
import psycopg
import pytest

from activities.accounts import create_user
from activities.wallet.ledger import Ledger
from core.db import Pool
from core.security import Role
from core.settings import Settings
from core.wallet.portal import valid_virtual_account, virtual_account_number
from tests.integration.guardian_world import PASSWORD, Family, family
from tests.integration.wallet_world import PIN

pytestmark = pytest.mark.integration

AUTO = "/v1/guardian/children/{}/auto-topup"
TRANSFERS = "/v1/guardian/transfers"
INBOX = "/v1/guardian/notifications"


@pytest.fixture(scope="module")
async def home(stack: Settings, pool: Pool, client: httpx.AsyncClient) -> Family:
    return await family(stack, pool, client)


async def signed_in(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    """A bearer token as the guardian gets it: their username and password."""
    response = await client.post("/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
async def guardian(client: httpx.AsyncClient, home: Family) -> dict[str, str]:
    return await signed_in(client, home.username)


def problems(response: httpx.Response) -> str:
    """The reasons a 4xx gives, as one text (a 422's list, or another 4xx's words)."""
    detail = response.json()["detail"]
    return detail if isinstance(detail, str) else " ".join(p["msg"] for p in detail)


async def virtual_account_of(pool: Pool, tenant: str, student: str) -> str:
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "SELECT virtual_account FROM students WHERE tenant_id = %s AND id = %s",
                (tenant, student),
            )
        ).fetchone()
    assert row is not None
    return str(row["virtual_account"])


async def audited(pool: Pool, tenant: str, action: str) -> list[Any]:
    async with pool.connection() as conn:
        return await (
            await conn.execute(
                "SELECT actor_role, target, details FROM audit_log "
                "WHERE tenant_id = %s AND action = %s ORDER BY id",
                (tenant, action),
            )
        ).fetchall()


# --- auto top-up ---------------------------------------------------------------------------


async def test_a_guardian_reads_sets_and_switches_off_a_childs_auto_top_up(
    stack: Settings, pool: Pool, client: httpx.AsyncClient
) -> None:
    own = await family(stack, pool, client)
    world, budi = own.world, own.children[0]
    headers = await signed_in(client, own.username)
    url = AUTO.format(budi)

    first = await client.get(url, headers=headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["student_id"], body["enabled"], body["below"], body["amount"]) == (
        budi,
        False,
        None,
        None,
    )
    assert Decimal(body["cap"]) == stack.balance_cap_decimal
    assert body["virtual_account"] == await virtual_account_of(pool, world.tenant, budi)
    assert body["requests"] == []

    set_ = await client.put(url, json={"below": "48000", "amount": "1990000"}, headers=headers)
    assert set_.status_code == 200, set_.text
    assert set_.json()["enabled"] is True
    assert (Decimal(set_.json()["below"]), Decimal(set_.json()["amount"])) == (48000, 1990000)
    # the same data as the portal's pages: the next payment that crosses asks the bank, once,
    # never past the e-money cap, for the wallet's virtual account
    crossing = await world.pay(budi, "3000")  # 50,000 -> 47,000
    await world.pay(budi, "1000")
    asked = (await client.get(url, headers=headers)).json()["requests"]
    assert [Decimal(a["amount"]) for a in asked] == [Decimal(1_953_000)]
    assert asked[0]["status"] in ("pending", "sent")  # the worker publishes it soon
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "SELECT cause, virtual_account FROM topup_requests "
                "WHERE tenant_id = %s AND id = %s",
                (world.tenant, asked[0]["id"]),
            )
        ).fetchone()
    assert row is not None and row["cause"].endswith(crossing["reference"])
    assert row["virtual_account"] == body["virtual_account"]

    off = await client.delete(url, headers=headers)
    assert off.status_code == 200, off.text
    assert (off.json()["enabled"], off.json()["below"]) == (False, None)
    assert (await client.get(url, headers=headers)).json()["enabled"] is False
    assert [
        (a["actor_role"], a["target"], a["details"])
        for a in await audited(pool, world.tenant, "auto_topup.set")
    ] == [
        ("guardian", f"student:{budi}", {"below": "48000", "amount": "1990000"}),
        ("guardian", f"student:{budi}", {"off": True}),
    ]


async def test_auto_top_up_amounts_must_be_positive_and_within_the_wallets_cap(
    home: Family, guardian: dict[str, str], client: httpx.AsyncClient, pool: Pool
) -> None:
    url = AUTO.format(home.children[1])
    for body, words in (
        ({"below": "0", "amount": "1000"}, "greater than 0"),
        ({"below": "1000", "amount": "-5"}, "greater than 0"),
        ({"below": "abc", "amount": "1000"}, "valid decimal"),
        ({"below": "1000", "amount": "1e20"}, "less than or equal"),
        ({"below": "1000", "amount": "0.00001"}, "decimal places"),
        ({"below": "2000001", "amount": "1000"}, "at most the e-money cap of 2000000"),
        ({"below": "1000", "amount": "3000000"}, "at most the e-money cap of 2000000"),
        ({"below": "1000"}, "Field required"),
        ({"below": "1000", "amount": "1000", "threshold": "1"}, "Extra inputs"),
    ):
        response = await client.put(url, json=body, headers=guardian)
        assert response.status_code == 422, (body, response.text)
        assert words in problems(response), (body, problems(response))
    # a school with a lower cap: the wallet's cap is the school's
    world = home.world
    school = f"low-{uuid.uuid4().hex[:6]}"
    await world.post(
        "/v1/schools",
        {"id": school, "name": "SD Hemat", "balance_cap": "500000"},
        world.admin,
    )
    thrifty = f"hemat-{uuid.uuid4().hex[:6]}"
    await world.post(
        f"/v1/schools/{school}/students",
        {"id": thrifty, "display_name": "Hemat", "grade": "4", "pin": PIN},
        world.admin,
    )
    await world.post(f"/v1/guardians/{home.guardian_id}/students/{thrifty}", {}, world.admin)
    headers = await signed_in(client, home.username)  # a new sign-in lists the new child
    url = AUTO.format(thrifty)
    assert Decimal((await client.get(url, headers=headers)).json()["cap"]) == 500000
    above = await client.put(url, json={"below": "600000", "amount": "1000"}, headers=headers)
    assert above.status_code == 422
    assert "at most the wallet's e-money cap of 500000" in problems(above)
    assert above.json()["detail"][0]["loc"] == ["body", "below"]
    within = await client.put(url, json={"below": "400000", "amount": "100000"}, headers=headers)
    assert within.status_code == 200, within.text
    assert not [
        a
        for a in await audited(pool, world.tenant, "auto_topup.set")
        if a["details"].get("below") in ("0", "2000001", "600000")
    ]


# --- who may ------------------------------------------------------------------------------


async def test_another_familys_child_another_tenant_and_other_roles_are_refused(
    home: Family,
    guardian: dict[str, str],
    client: httpx.AsyncClient,
    stack: Settings,
    pool: Pool,
) -> None:
    world, (budi, sari), stranger = home.world, home.children, home.stranger
    # another family's child, same school: not found, whatever the guardian asks
    for method, path, body in (
        ("GET", AUTO.format(stranger), None),
        ("PUT", AUTO.format(stranger), {"below": "1000", "amount": "1000"}),
        ("DELETE", AUTO.format(stranger), None),
        ("GET", AUTO.format("no-such-child"), None),
    ):
        response = await client.request(method, path, json=body, headers=guardian)
        assert response.status_code == 404, (method, path, response.text)
        assert "you have no child" in response.json()["detail"]
    for source, target in ((budi, stranger), (stranger, budi)):
        response = await client.post(
            TRANSFERS,
            json={"from_student_id": source, "to_student_id": target, "amount": "100"},
            headers=guardian | {"Idempotency-Key": f"k-{uuid.uuid4().hex}"},
        )
        assert response.status_code == 404, response.text
    assert await world.balance(stranger) == "20000.0000"

    # a guardian of another tenant: finds none of this family's children or notifications
    other = await family(stack, pool, client)
    theirs = await signed_in(client, other.username)
    assert (await client.get(AUTO.format(budi), headers=theirs)).status_code == 404
    moved = await client.post(
        TRANSFERS,
        json={"from_student_id": budi, "to_student_id": sari, "amount": "100"},
        headers=theirs | {"Idempotency-Key": f"k-{uuid.uuid4().hex}"},
    )
    assert moved.status_code == 404
    ours = (await client.get(INBOX, headers=guardian)).json()["notifications"]
    assert ours, "the family's top-ups were notified"
    mark = await client.put(f"{INBOX}/{ours[0]['id']}", json={"read": True}, headers=theirs)
    assert mark.status_code == 404
    their_inbox = (await client.get(INBOX, headers=theirs)).json()["notifications"]
    assert not {n["id"] for n in their_inbox} & {n["id"] for n in ours}
    assert {n["student_id"] for n in their_inbox} <= set(other.children)

    # other roles of the same tenant: refused, even the school's staff and the tenant's admin
    async with pool.connection() as conn:
        await create_user(
            conn,
            tenant_id=world.tenant,
            username=f"staff-api-{home.guardian_id}",
            password=PASSWORD,
            role=Role.SCHOOL_STAFF,
            school_id=world.school,
        )
    staff = await signed_in(client, f"staff-api-{home.guardian_id}")
    for headers in (staff, world.admin, world.token(Role.OPERATOR)):
        for method, path in (
            ("GET", AUTO.format(budi)),
            ("DELETE", AUTO.format(budi)),
            ("GET", TRANSFERS),
            ("GET", INBOX),
        ):
            response = await client.request(method, path, headers=headers)
            assert response.status_code == 403, (method, path, response.text)
            assert "may not" in response.json()["detail"]
    assert (await client.get(INBOX)).status_code == 401


# --- between siblings ---------------------------------------------------------------------


async def test_money_moves_between_siblings_once_per_key_and_is_posted_to_the_ledger(
    home: Family, guardian: dict[str, str], client: httpx.AsyncClient, pool: Pool
) -> None:
    world, (budi, sari) = home.world, home.children
    before = (Decimal(await world.balance(budi)), Decimal(await world.balance(sari)))
    key = f"api-{uuid.uuid4().hex}"
    body = {"from_student_id": budi, "to_student_id": sari, "amount": "4000"}
    headers = guardian | {"Idempotency-Key": key}
    first = await client.post(TRANSFERS, json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    made = first.json()
    assert (made["id"], made["from_student_id"], made["to_student_id"]) == (key, budi, sari)
    assert Decimal(made["amount"]) == 4000
    # the same key and body again (a retry after a lost answer): the same transfer, moved once
    again = await client.post(TRANSFERS, json=body | {"amount": "4000.00"}, headers=headers)
    assert (again.status_code, again.json()) == (201, made)
    assert again.headers["Idempotent-Replayed"] == "true"
    after = (Decimal(await world.balance(budi)), Decimal(await world.balance(sari)))
    assert after == (before[0] - 4000, before[1] + 4000)
    # the same key with another body: refused with the reason, nothing moved
    for other in (
        body | {"amount": "5000"},
        body | {"from_student_id": sari, "to_student_id": budi},
    ):
        reused = await client.post(TRANSFERS, json=other, headers=headers)
        assert reused.status_code == 409, reused.text
        assert "used for another transfer" in reused.json()["detail"]
    assert (Decimal(await world.balance(budi)), Decimal(await world.balance(sari))) == after
    # in the ledger: one balanced transfer posting, from one wallet to the other
    async with pool.connection() as conn:
        entries = await (
            await conn.execute(
                """SELECT e.account_id, e.amount FROM postings p
                   JOIN ledger_entries e ON e.tenant_id = p.tenant_id AND e.posting_id = p.id
                   WHERE p.tenant_id = %s AND p.idempotency_key = %s AND p.kind = 'transfer'
                   ORDER BY e.amount""",
                (world.tenant, f"transfer:{key}"),
            )
        ).fetchall()
    assert [(e["account_id"], e["amount"]) for e in entries] == [
        (f"wallet:{budi}", Decimal(-4000)),
        (f"wallet:{sari}", Decimal(4000)),
    ]
    assert [
        a["details"]["request_id"] for a in await audited(pool, world.tenant, "wallet.transfer")
    ].count(key) == 1
    listed = await client.get(TRANSFERS, headers=guardian)
    assert listed.status_code == 200
    assert made in listed.json()
    assert (await client.get(f"{TRANSFERS}?limit=1", headers=guardian)).json() == [listed.json()[0]]


async def test_the_same_transfer_sent_several_times_at_once_moves_the_money_once(
    home: Family, guardian: dict[str, str], client: httpx.AsyncClient
) -> None:
    world, (budi, sari) = home.world, home.children
    before = (Decimal(await world.balance(budi)), Decimal(await world.balance(sari)))
    key = f"burst-{uuid.uuid4().hex}"
    body = {"from_student_id": sari, "to_student_id": budi, "amount": "1500"}
    answers = await asyncio.gather(
        *(
            client.post(TRANSFERS, json=body, headers=guardian | {"Idempotency-Key": key})
            for _ in range(5)
        )
    )
    assert [a.status_code for a in answers] == [201] * 5, [a.text for a in answers]
    assert len({a.text for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 4
    after = (Decimal(await world.balance(budi)), Decimal(await world.balance(sari)))
    assert after == (before[0] + 1500, before[1] - 1500)


async def test_bad_transfers_are_refused_with_their_reasons(
    home: Family, guardian: dict[str, str], client: httpx.AsyncClient
) -> None:
    world, (budi, sari) = home.world, home.children
    before = (await world.balance(budi), await world.balance(sari))
    body = {"from_student_id": budi, "to_student_id": sari, "amount": "100"}

    async def post(payload: dict[str, Any], key: str | None = "k") -> httpx.Response:
        headers = dict(guardian)
        if key is not None:
            headers["Idempotency-Key"] = f"{key}-{uuid.uuid4().hex}" if key == "k" else key
        return await client.post(TRANSFERS, json=payload, headers=headers)

    for payload, key, status, words in (
        (body | {"amount": "0"}, "k", 422, "greater than 0"),
        (body | {"amount": "-100"}, "k", 422, "greater than 0"),
        (body | {"amount": "12.34567"}, "k", 422, "decimal places"),
        (body | {"amount": "NaN"}, "k", 422, "finite number"),
        (body | {"amount": "3000000"}, "k", 422, "at most the e-money cap"),
        (body | {"to_student_id": budi}, "k", 422, "two different children"),
        (body | {"to_student_id": "../etc"}, "k", 422, "should match pattern"),
        (body | {"memo": "x"}, "k", 422, "Extra inputs"),
        (body, None, 422, "Field required"),
        (body, "short", 422, "should match pattern"),
        (body, "x" * 65, 422, "should match pattern"),
        (body | {"amount": "1900000"}, "k", 409, "not enough money"),
    ):
        response = await post(payload, key)
        assert response.status_code == status, (payload, key, response.text)
        assert words in problems(response), (payload, key, problems(response))
    assert (await world.balance(budi), await world.balance(sari)) == before
    for query in ("limit=0", "limit=101", "limit=x"):
        assert (await client.get(f"{TRANSFERS}?{query}", headers=guardian)).status_code == 422


async def test_no_money_moves_into_the_wallet_of_a_child_who_has_left(
    stack: Settings, pool: Pool, client: httpx.AsyncClient
) -> None:
    """A leaver's wallet is closed (its balance paid out to a guardian, no more top-ups or
    payments): money moved into it would be stranded there."""
    own = await family(stack, pool, client)
    world, (budi, sari) = own.world, own.children
    headers = await signed_in(client, own.username)
    left = await client.put(
        f"/v1/schools/{world.school}/students/{sari}/status",
        json={"status": "left", "reason": "moved to another town"},
        headers=world.admin,
    )
    assert left.status_code == 200, left.text
    response = await client.post(
        TRANSFERS,
        json={"from_student_id": budi, "to_student_id": sari, "amount": "1000"},
        headers=headers | {"Idempotency-Key": f"k-{uuid.uuid4().hex}"},
    )
    assert response.status_code == 409, response.text
    assert "has left" in response.json()["detail"]
    assert (await world.balance(budi), await world.balance(sari)) == ("50000.0000", "0.0000")


async def test_a_guardian_sign_in_without_a_guardian_record_cannot_move_money(
    home: Family, client: httpx.AsyncClient
) -> None:
    # a token of the guardian role listing the children, but no guardian record signs in so
    world, (budi, sari) = home.world, home.children
    headers = world.token(Role.GUARDIAN, students=(budi, sari))
    response = await client.post(
        TRANSFERS,
        json={"from_student_id": budi, "to_student_id": sari, "amount": "100"},
        headers=headers | {"Idempotency-Key": f"k-{uuid.uuid4().hex}"},
    )
    assert response.status_code == 409
    assert "no guardian record" in response.json()["detail"]
    inbox = await client.get(INBOX, headers=headers)
    assert inbox.json() == {"notifications": [], "unread": 0, "next_before": None}


# --- the inbox ----------------------------------------------------------------------------


async def test_the_inbox_pages_newest_first_and_marks_read_and_unread(
    stack: Settings, pool: Pool, client: httpx.AsyncClient
) -> None:
    own = await family(stack, pool, client)
    world, budi = own.world, own.children[0]
    headers = await signed_in(client, own.username)
    for _ in range(3):  # declined for lack of money: each one notified
        declined = await world.pay(budi, "900000")
        assert declined["status"] == "declined"
    everything = (await client.get(f"{INBOX}?limit=100", headers=headers)).json()
    total = len(everything["notifications"])
    assert total >= 5  # two top-ups credited, three declines
    assert everything["unread"] == total and everything["next_before"] is None
    ids = [n["id"] for n in everything["notifications"]]
    assert ids == sorted(ids, reverse=True)
    assert {n["kind"] for n in everything["notifications"]} >= {
        "topup_credited",
        "payment_declined",
    }
    declines = [n for n in everything["notifications"] if n["kind"] == "payment_declined"]
    assert all(n["student_id"] == budi for n in declines)
    assert declines[0]["payload"]["amount"] == "900000.0000"

    pages: list[int] = []
    url = f"{INBOX}?limit=2"
    while True:
        page = (await client.get(url, headers=headers)).json()
        assert len(page["notifications"]) <= 2
        pages += [n["id"] for n in page["notifications"]]
        if page["next_before"] is None:
            break
        url = f"{INBOX}?limit=2&before={page['next_before']}"
    assert pages == ids

    one = await client.put(f"{INBOX}/{ids[1]}", json={"read": True}, headers=headers)
    assert one.status_code == 200, one.text
    assert (one.json()["id"], one.json()["read"]) == (ids[1], True)
    unread = (await client.get(f"{INBOX}?unread=true&limit=100", headers=headers)).json()
    assert ids[1] not in [n["id"] for n in unread["notifications"]]
    assert unread["unread"] == total - 1
    back = await client.put(f"{INBOX}/{ids[1]}", json={"read": False}, headers=headers)
    assert back.json()["read"] is False
    everything_read = await client.put(INBOX, json={"read": True}, headers=headers)
    assert everything_read.json() == {"marked": total, "unread": 0}
    assert (await client.get(INBOX, headers=headers)).json()["unread"] == 0

    for method, path, body in (
        ("GET", f"{INBOX}?limit=0", None),
        ("GET", f"{INBOX}?limit=101", None),
        ("GET", f"{INBOX}?before=0", None),
        ("GET", f"{INBOX}?before={2**63}", None),
        ("PUT", f"{INBOX}/abc", {"read": True}),
        ("PUT", f"{INBOX}/{2**63}", {"read": True}),
        ("PUT", f"{INBOX}/{ids[0]}", {"read": "perhaps"}),
        ("PUT", f"{INBOX}/{ids[0]}", {}),
        ("PUT", INBOX, {"read": True, "all": True}),
    ):
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 422, (method, path, response.text)
    # a notification of another guardian (the stranger's, same school): not found
    stranger_guardian = world.token(Role.GUARDIAN, students=(own.stranger,))
    assert (await client.get(INBOX, headers=stranger_guardian)).json()["notifications"] == []
    missing = await client.put(f"{INBOX}/{2**62}", json={"read": True}, headers=headers)
    assert missing.status_code == 404 and "no notification" in missing.json()["detail"]


# --- the OpenAPI document -----------------------------------------------------------------


async def test_every_guardian_route_is_in_the_openapi_document_with_its_models(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    paths = document["paths"]
    expected = {
        "/v1/guardian/children/{child_id}/auto-topup": {"get", "put", "delete"},
        "/v1/guardian/transfers": {"get", "post"},
        "/v1/guardian/notifications": {"get", "put"},
        "/v1/guardian/notifications/{notification_id}": {"put"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) == methods, path
        for method in methods:
            operation = paths[path][method]
            ok = operation["responses"]["201" if method == "post" else "200"]
            assert "$ref" in str(ok["content"]["application/json"]["schema"]), (method, path)
            assert "4XX" in operation["responses"], (method, path)
            if method in ("put", "post"):
                assert "requestBody" in operation, (method, path)
    key = [p for p in paths[TRANSFERS]["post"]["parameters"] if p["in"] == "header"]
    assert [(p["name"], p["required"]) for p in key] == [("Idempotency-Key", True)]
    schemas = document["components"]["schemas"]
    assert {"AutoTopUpIn", "AutoTopUpOut", "TransferIn", "TransferOut", "InboxOut"} <= set(schemas)
    # bounded: amounts positive and finite, ids and keys by pattern, page sizes by range
    assert "exclusiveMinimum" in str(schemas["AutoTopUpIn"]["properties"]["below"])
    assert "pattern" in str(schemas["TransferIn"]["properties"]["to_student_id"])
    [limit] = [p for p in paths[INBOX]["get"]["parameters"] if p["name"] == "limit"]
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 100)


# --- virtual accounts ---------------------------------------------------------------------


async def test_every_wallet_has_its_own_virtual_account_number_which_never_changes(
    home: Family, client: httpx.AsyncClient, pool: Pool, stack: Settings
) -> None:
    other = await family(stack, pool, client)  # another tenant's wallets, from one sequence
    students = [(home.world.tenant, s) for s in (*home.children, home.stranger)] + [
        (other.world.tenant, s) for s in other.children
    ]
    numbers = [await virtual_account_of(pool, t, s) for t, s in students]
    assert all(valid_virtual_account(n) for n in numbers), numbers
    assert len(set(numbers)) == len(numbers)
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "SELECT count(*) AS n, count(DISTINCT virtual_account) AS d, "
                "count(virtual_account) AS given FROM students"
            )
        ).fetchone()
        assert row is not None and row["n"] == row["d"] == row["given"]
        # the database formats its numbers as core/wallet/portal.py describes them
        for sequence in (1, 42, 7_654_321, 10**11 - 1):
            formatted = await (
                await conn.execute("SELECT virtual_account_number(%s) AS va", (sequence,))
            ).fetchone()
            assert formatted is not None
            assert formatted["va"] == virtual_account_number(sequence), sequence
    # stable: the same number after the wallet's other changes; never another one
    budi = home.children[0]
    tenant = home.world.tenant
    before = await virtual_account_of(pool, tenant, budi)
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE students SET display_name = 'Budi R.', grade = '6' "
            "WHERE tenant_id = %s AND id = %s",
            (tenant, budi),
        )
    assert await virtual_account_of(pool, tenant, budi) == before
    for number in (virtual_account_number(10**11 - 2), numbers[1], numbers[-1]):
        with pytest.raises(psycopg.errors.CheckViolation, match="keeps its virtual account"):
            async with pool.connection() as conn:
                await conn.execute(
                    "UPDATE students SET virtual_account = %s WHERE tenant_id = %s AND id = %s",
                    (number, tenant, budi),
                )
    assert await virtual_account_of(pool, tenant, budi) == before
    # and no second wallet may be given one that is taken
    account = f"wallet:dup-{uuid.uuid4().hex[:6]}"
    await Ledger(pool).open_account(tenant, account, "student_wallet")
    with pytest.raises(psycopg.errors.UniqueViolation, match="virtual_account"):
        async with pool.connection() as conn:
            await conn.execute(
                "INSERT INTO students (tenant_id, id, school_id, display_name, account_id, "
                "virtual_account) VALUES (%s, %s, %s, 'Dup', %s, %s)",
                (tenant, account.removeprefix("wallet:"), home.world.school, account, before),
            )


async def test_a_top_up_to_a_virtual_account_reaches_its_wallet(
    home: Family, client: httpx.AsyncClient, pool: Pool, stack: Settings
) -> None:
    world, (budi, sari) = home.world, home.children
    integration = world.token(Role.INTEGRATION)
    sari_va = await virtual_account_of(pool, world.tenant, sari)
    before = (Decimal(await world.balance(budi)), Decimal(await world.balance(sari)))
    topup = {
        "topupId": f"va-{uuid.uuid4().hex[:12]}",
        "virtualAccount": sari_va,
        "amount": "12500",
        "payerAccount": "bca-0123456789",
        "payerName": "Ibu Sari",
    }
    credited = await client.post("/v1/topups", json=topup, headers=integration)
    assert credited.status_code == 200, credited.text
    assert credited.json()["status"] == "credited"
    after = (Decimal(await world.balance(budi)), Decimal(await world.balance(sari)))
    assert after == (before[0], before[1] + 12500)
    # the same top-up again, now also naming the student: the same receipt, credited once
    again = await client.post("/v1/topups", json=topup | {"studentId": sari}, headers=integration)
    assert again.status_code == 200 and again.json() == credited.json()
    assert Decimal(await world.balance(sari)) == after[1]

    other = await family(stack, pool, client)
    elsewhere = await virtual_account_of(pool, other.world.tenant, other.children[0])
    unallocated = virtual_account_number(10**11 - 3)
    mistyped = sari_va[:-1] + str((int(sari_va[-1]) + 1) % 10)
    for body, status, words in (
        (topup | {"studentId": budi, "topupId": "va-x1"}, 422, "is not the wallet of"),
        (topup | {"virtualAccount": elsewhere, "topupId": "va-x2"}, 404, "no wallet with"),
        (topup | {"virtualAccount": unallocated, "topupId": "va-x3"}, 404, "no wallet with"),
        (topup | {"virtualAccount": mistyped, "topupId": "va-x4"}, 422, "check digit"),
        (topup | {"virtualAccount": "8808", "topupId": "va-x5"}, 422, "should match pattern"),
        (
            {k: v for k, v in topup.items() if k != "virtualAccount"} | {"topupId": "va-x6"},
            422,
            "studentId or virtualAccount",
        ),
    ):
        response = await client.post("/v1/topups", json=body, headers=integration)
        assert response.status_code == status, (body, response.text)
        assert words in problems(response), (body, problems(response))
    assert (Decimal(await world.balance(budi)), Decimal(await world.balance(sari))) == after
    # the other tenant's wallet was not touched either
    assert await other.world.balance(other.children[0]) == "50000.0000"
