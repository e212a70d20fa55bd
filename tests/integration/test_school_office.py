"""The school office over HTTP: staff see their own school only (another school's student
or kiosk is not found), bad input is a clear 4xx page saying why in the page's language
(Bahasa Indonesia, or English when chosen), the canteen day adds up, a kiosk's
journal report and last sync show, and a student leaving — through the API as through the
page — pays their balance back to a guardian once (ledger-posted, on the payouts topic) and
stops them paying. The bank's answers on the payout-results topic (through the real
consumer): paid (posted out of payouts pending, the guardian told) once however often it
comes, rejected (still owed) then sent again from the office and paid; answers that cannot
be taken dead-lettered with their reasons."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from activities.wallet.ledger import Ledger
from activities.wallet.payouts import PAYOUTS_PENDING, Payout, Payouts
from core.db import Pool
from core.security import Role
from core.settings import Settings
from devices.kiosk.agent import KioskAgent
from devices.kiosk.client import KioskClient, KioskIdentity
from devices.kiosk.journal import Journal
from devices.kiosk.sensor import Sensor
from devices.kiosk.slots import SlotMap
from tests.integration.office_world import (
    answer,
    answer_payouts,
    dead_letters,
    leaves,
    payout_requests,
    signed,
    staff_session,
)
from tests.integration.wallet_world import World, build_world
from tests.stackutil import eventually

pytestmark = pytest.mark.integration
CSRF = r'name="csrf_token" value="'
ALERT = re.compile(r'<p class="notice error" role="alert">(.*?)</p>', re.S)


@pytest.fixture
async def pages(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client of its own (its cookies are its session)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://saku.test") as client:
        yield client


async def csrf_of(pages: httpx.AsyncClient, path: str) -> str:
    page = await pages.get(path)
    assert page.status_code == 200, page.text
    return page.text.split(CSRF, 1)[1].split('"', 1)[0]


def alert(page: httpx.Response) -> str:
    """The reason an error page gives, as a person reads it."""
    found = ALERT.search(page.text)
    assert found is not None, page.text
    return html.unescape(found.group(1)).strip()


async def test_the_canteen_today_adds_up_and_shows_each_kiosk(
    stack: Settings, pool: Pool, client: httpx.AsyncClient, pages: httpx.AsyncClient
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student()
    await world.top_up(student, "20000")
    assert (await world.pay(student, "5000", category_id="snacks"))["status"] == "approved"
    assert (await world.pay(student, "2500", category_id="meals"))["status"] == "approved"
    declined = await world.pay(student, "90000", category_id="meals")
    assert declined["reason_code"] == "insufficient_funds"
    # the kiosk reports its journal with its config request, and syncs
    report = await signed(
        world, world.kiosk, "GET", "/v1/kiosk/config?unsynced=3&unsynced_amount=7500"
    )
    assert report.status_code == 200, report.text

    await staff_session(pages, stack, world)
    today = await pages.get("/office/today")
    assert today.status_code == 200, today.text
    text = today.text
    assert 'lang="id"' in text  # Bahasa Indonesia unless the person chose otherwise
    assert "2 senilai Rp 7.500" in text  # the day's sales
    assert "Saldo tidak cukup" in text  # a decline, by its reason
    assert f'data-kiosk="{world.kiosk.id}"' in text and "daring" in text  # online
    assert "3 senilai Rp 7.500" in text  # the unsynced journal the kiosk reported
    pages.cookies.set("saku_lang", "en")
    english = await pages.get("/office/today")
    assert "Sales by category" in english.text and "Not enough money" in english.text


async def test_the_office_sees_a_kiosks_journal_and_its_last_sync(
    stack: Settings,
    pool: Pool,
    client: httpx.AsyncClient,
    pages: httpx.AsyncClient,
    app: FastAPI,
    tmp_path: Path,
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student()
    await world.top_up(student, "10000")
    kiosk = world.kiosk
    identity = KioskIdentity(world.tenant, kiosk.id, kiosk.key_id, kiosk.private_key)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://saku.test")
    agent = KioskAgent(
        KioskClient(http, identity),
        Sensor("/dev/null"),
        SlotMap(tmp_path / "slots.sqlite"),
        Journal(tmp_path / "journal.sqlite", identity),
    )
    await staff_session(pages, stack, world)
    row = f'data-kiosk="{kiosk.id}"'
    try:
        for n, amount in ((1, "2000"), (2, "1500")):  # sold while Saku was out of reach
            agent.journal.record(
                {
                    "kiosk_tx_id": f"off-{n}",
                    "student_id": student,
                    "amount": amount,
                    "auth_method": "pin",
                }
            )
        await agent.refresh_config()  # back online: it reports its journal
        today = (await pages.get("/office/today")).text
        kiosk_row = today.split(row, 1)[1].split("</tr>", 1)[0]
        assert "2 senilai Rp 3.500" in kiosk_row and "belum pernah" in kiosk_row
        assert await agent.sync_offline() == 2
        await agent.refresh_config()
        today = (await pages.get("/office/today")).text
        kiosk_row = today.split(row, 1)[1].split("</tr>", 1)[0]
        assert "0 senilai Rp 0" in kiosk_row and "belum pernah" not in kiosk_row
    finally:
        await http.aclose()


async def test_a_kiosk_report_out_of_bounds_is_refused(
    stack: Settings, pool: Pool, client: httpx.AsyncClient
) -> None:
    world = await build_world(stack, pool, client)
    for query in ("unsynced=-1&unsynced_amount=0", "unsynced=1&unsynced_amount=abc"):
        response = await signed(world, world.kiosk, "GET", f"/v1/kiosk/config?{query}")
        assert response.status_code == 422, (query, response.text)


async def test_staff_see_only_their_school(
    stack: Settings, pool: Pool, client: httpx.AsyncClient, pages: httpx.AsyncClient
) -> None:
    world = await build_world(stack, pool, client)
    other = await build_world(stack, pool, client)
    theirs = await other.student()
    mine = await world.student()
    await staff_session(pages, stack, world)
    assert (await pages.get(f"/office/students/{mine}")).status_code == 200
    # another tenant's student, and another school's in the same tenant
    assert (await pages.get(f"/office/students/{theirs}")).status_code == 404
    await world.post("/v1/schools", {"id": f"{world.school}-2", "name": "SD Negeri 2"}, world.admin)
    await world.post(
        f"/v1/schools/{world.school}-2/students",
        {"id": f"{mine}-2", "display_name": "Sari W."},
        world.admin,
    )
    assert (await pages.get(f"/office/students/{mine}-2")).status_code == 404
    found = await pages.get("/office/students", params={"q": "Sari"})
    assert f"{mine}-2" not in found.text
    token = await csrf_of(pages, f"/office/students/{mine}")
    leave = await pages.post(
        f"/office/students/{mine}-2/leave", data={"csrf_token": token, "reason": "moved away"}
    )
    assert leave.status_code == 404
    refund = await pages.post(
        f"/office/payments/{other.kiosk.id}/tx-1/refund",
        data={"csrf_token": token, "reason": "wrong item"},
    )
    assert refund.status_code == 404
    rotate = await pages.post(
        f"/office/kiosks/{other.kiosk.id}/keys/rotate",
        data={"csrf_token": token, "public_key": "A" * 43 + "=", "reason": "rotation"},
    )
    assert rotate.status_code == 404


async def test_bad_input_is_a_clear_4xx(
    stack: Settings, pool: Pool, client: httpx.AsyncClient, pages: httpx.AsyncClient
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student()
    school, kiosk = world.school, world.kiosk.id
    await staff_session(pages, stack, world)
    token = await csrf_of(pages, "/office/kiosks")
    # each refusal with its reason as an Indonesian page and as an English page says it
    ids_are = "terdiri dari 1 sampai 64 huruf, angka, '-' atau '_'."
    ids_en = "is 1 to 64 letters, digits, '-' or '_'."
    short_reason = (
        "Alasan terdiri dari 3 sampai 300 karakter.",
        "A reason is 3 to 300 characters.",
    )
    bad_key = "kunci publik tidak valid: isi kunci publik Ed25519 mentah kios dalam base64"
    cases: list[tuple[str, dict[str, str] | None, int, tuple[str, str]]] = [
        (
            f"/office/students?q={'x' * 101}",
            None,
            422,
            ("Pencarian paling banyak 100 karakter.", "A search is at most 100 characters."),
        ),
        (
            "/office/students?status=gone",
            None,
            422,
            (
                "Pilih status: aktif, ditangguhkan, keluar.",
                "Choose a status: active, suspended, left.",
            ),
        ),
        (f"/office/students/{student}/leave", {"reason": "x"}, 422, short_reason),
        (
            f"/office/students/{student}/leave",
            {"reason": "moved", "guardian_id": "../x"},
            422,
            (f"ID wali {ids_are}", f"The guardian's id {ids_en}"),
        ),
        (
            f"/office/students/{student}/leave",
            {"reason": "moved", "guardian_id": "g-nobody"},
            404,
            (
                f"'g-nobody' bukan wali dari '{student}'",
                f"guardian 'g-nobody' is not a guardian of '{student}'",
            ),
        ),
        (f"/office/payments/{kiosk}/tx-none/refund", {"reason": "r"}, 422, short_reason),
        (
            f"/office/payments/{kiosk}/tx-none/void",
            {"reason": "no such sale"},
            404,
            (
                f"sekolah '{school}' tidak punya pembayaran {kiosk}/tx-none",
                f"school '{school}' has no payment {kiosk}/tx-none",
            ),
        ),
        (
            "/office/kiosks",
            {"kiosk_id": "bad id!", "merchant_id": world.merchant, "name": "T"},
            422,
            (f"ID kios {ids_are}", f"The kiosk's id {ids_en}"),
        ),
        (
            "/office/kiosks",
            {"kiosk_id": "k-2", "merchant_id": world.merchant, "name": ""},
            422,
            (
                "Nama kios terdiri dari 1 sampai 200 karakter.",
                "A kiosk's name is 1 to 200 characters.",
            ),
        ),
        (
            "/office/kiosks",
            {"kiosk_id": "k-2", "merchant_id": "no-such", "name": "Till"},
            404,
            (
                f"sekolah '{school}' tidak punya kantin 'no-such'",
                f"school '{school}' has no merchant 'no-such'",
            ),
        ),
        (
            f"/office/kiosks/{kiosk}/keys",
            {"public_key": "not base64"},
            400,
            (bad_key, "the public key is not valid base64"),
        ),
        (
            f"/office/kiosks/{kiosk}/keys/rotate",
            {"public_key": "QUJD", "reason": "r1x"},
            400,
            (bad_key, "an Ed25519 public key is 32 raw bytes (got 3)"),
        ),
        (
            f"/office/kiosks/{kiosk}/keys/nokey/revoke",
            {"reason": "stolen"},
            404,
            (f"kios '{kiosk}' tidak punya kunci 'nokey'", f"kiosk '{kiosk}' has no key 'nokey'"),
        ),
        # the kiosk's current key cannot be registered over: rotate it instead
        (
            f"/office/kiosks/{kiosk}/keys",
            {"public_key": "A" * 43 + "="},
            409,
            (
                f"kios '{kiosk}' sudah punya kunci yang berlaku",
                f"kiosk '{kiosk}' already has a current key",
            ),
        ),
    ]
    for lang in ("id", "en"):
        if lang == "en":
            pages.cookies.set("saku_lang", "en")
        for path, form, status, reasons in cases:
            if form is None:
                response = await pages.get(path)
            else:
                response = await pages.post(path, data={"csrf_token": token, **form})
            assert response.status_code == status, (lang, path, form, response.text)
            assert "text/html" in response.headers["content-type"]
            assert f'lang="{lang}"' in response.text
            said = alert(response)
            expected, other = reasons if lang == "id" else reasons[::-1]
            assert said.startswith(expected), (lang, path, form, said)
            # never the other language's words
            assert other not in said, (lang, path, form, said)


async def test_staff_without_a_school_are_refused(
    stack: Settings, pool: Pool, client: httpx.AsyncClient, pages: httpx.AsyncClient
) -> None:
    world = await build_world(stack, pool, client)
    await staff_session(pages, stack, world, school="")
    # an empty school is no school: a staff member who belongs to none sees nothing
    refused = await pages.get("/office/today")
    assert refused.status_code == 403 and "Not for your role" in refused.text


async def test_a_student_leaving_through_the_api_is_paid_back_once(
    stack: Settings, pool: Pool, client: httpx.AsyncClient
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student()
    await world.top_up(student, "15000")
    await world.pay(student, "2500")
    staff = world.token(Role.SCHOOL_STAFF, school=world.school)
    path = f"/v1/schools/{world.school}/students/{student}/status"
    ledger = Ledger(pool)
    before = await ledger.verify(world.tenant)

    left = await client.put(path, json={"status": "left", "reason": "moved away"}, headers=staff)
    assert left.status_code == 200, left.text
    payout = left.json()["payout"]
    assert (payout["guardian_id"], Decimal(payout["amount"])) == (f"g-{student}", Decimal(12500))
    assert await world.balance(student) == "0.0000"
    after = await ledger.verify(world.tenant)
    assert after.ok, after.problems
    assert after.payouts - before.payouts == Decimal(12500)
    [request] = await payout_requests(stack, payout["id"])
    assert request["type"] == "payout.requested"
    assert (request["studentId"], request["guardianId"], request["amount"]) == (
        student,
        f"g-{student}",
        "12500.0000",
    )

    # asked again: the same payout, nothing posted twice
    again = await client.put(path, json={"status": "left", "reason": "moved away"}, headers=staff)
    assert again.status_code == 200 and again.json()["payout"]["id"] == payout["id"]
    assert (await ledger.verify(world.tenant)).payouts == after.payouts
    # a leaver can no longer pay, nor be topped up
    paid = await world.pay(student, "100")
    assert paid["reason_code"] == "student_inactive"


async def test_a_balance_needs_a_guardian_to_go_back_to(
    stack: Settings, pool: Pool, client: httpx.AsyncClient
) -> None:
    world: World = await build_world(stack, pool, client)
    staff = world.token(Role.SCHOOL_STAFF, school=world.school)
    # two guardians: the staff name the one to pay
    student = await world.student()
    await world.post(
        "/v1/guardians", {"id": f"g2-{student}", "display_name": "Pak Budi"}, world.admin
    )
    await world.post(f"/v1/guardians/g2-{student}/students/{student}", {}, world.admin)
    await world.top_up(student, "5000")
    path = f"/v1/schools/{world.school}/students/{student}/status"
    unnamed = await client.put(path, json={"status": "left", "reason": "moved"}, headers=staff)
    assert unnamed.status_code == 400 and "name the one to pay back" in unnamed.text
    bad = await client.put(
        path, json={"status": "left", "reason": "moved", "guardian_id": "g-x"}, headers=staff
    )
    assert bad.status_code == 404, bad.text
    # nothing changed by the refusals
    assert await world.balance(student) == "5000.0000"
    named = await client.put(
        path,
        json={"status": "left", "reason": "moved", "guardian_id": f"g2-{student}"},
        headers=staff,
    )
    assert named.status_code == 200 and named.json()["payout"]["guardian_id"] == f"g2-{student}"

    # no guardian at all: the balance would be stranded, so the student does not leave yet
    alone = f"alone-{student}"
    await world.post(
        f"/v1/schools/{world.school}/students", {"id": alone, "display_name": "Ani"}, world.admin
    )
    await world.top_up(alone, "1000")
    refused = await client.put(
        f"/v1/schools/{world.school}/students/{alone}/status",
        json={"status": "left", "reason": "moved"},
        headers=staff,
    )
    assert refused.status_code == 409 and "no guardian" in refused.text
    assert (await world.pay(alone, "100"))["status"] == "approved"


async def answered(pool: Pool, tenant: str, payout_id: str, status: str) -> Payout:
    """The payout, once it has this status (the consumer takes the bank's answer)."""
    payouts = Payouts(pool)

    async def reached() -> bool:
        found = await payouts.get(tenant, payout_id)
        return found is not None and found.status == status

    assert await eventually(reached, timeout=30), await payouts.get(tenant, payout_id)
    found = await payouts.get(tenant, payout_id)
    assert found is not None
    return found


async def count(pool: Pool, sql: str, *params: object) -> int:
    async with pool.connection() as conn:
        row = await (await conn.execute(sql, params)).fetchone()
    assert row is not None
    return int(row["n"])


async def test_the_bank_pays_a_payout_once_and_answers_it_cannot_take_are_dead_lettered(
    stack: Settings, pool: Pool, client: httpx.AsyncClient, processes: Settings, bank: str
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student()
    await world.top_up(student, "12500")
    ledger = Ledger(pool)
    payout_id = await leaves(world, student)
    assert await ledger.balance(world.tenant, PAYOUTS_PENDING) == Decimal(12500)
    await payout_requests(stack, payout_id)  # the bank has the request

    reference = f"BCA-{uuid.uuid4().hex[:10]}"
    paid = answer(world.tenant, payout_id, "paid", bankReference=reference, amount="12500")
    bad = {
        b"{not json": "malformed JSON",
        answer(world.tenant, "po-nobody", "paid", bankReference="R-1"): "has no payout",
        # another tenant's payout is, for that tenant, no payout at all
        answer(bank, payout_id, "paid", bankReference="R-2"): f"tenant '{bank}' has no payout",
        answer("no-such-tenant", payout_id, "paid", bankReference="R-3"): "unknown tenant",
        answer(world.tenant, payout_id, "rejected", bankReference="R-4"): "needs the bank's reason",
        answer(world.tenant, payout_id, "sent", bankReference="R-5"): "outcome",
        answer(world.tenant, payout_id, "paid", bankReference="R-6", extra="x"): "extra",
        # paid already: another answer for it is the wrong state
        answer(
            world.tenant, payout_id, "rejected", bankReference="R-7", reason="account closed"
        ): "was paid already",
        answer(world.tenant, payout_id, "paid", bankReference=reference, amount="99"): "is for",
    }
    # the answer, the same answer again, then the bad ones: one key, read in this order
    await answer_payouts(processes, paid, paid, *bad, key=payout_id.encode())

    letters = await dead_letters(processes, len(bad))
    assert set(letters) == set(bad), letters
    for value, reason in letters.items():
        assert bad[value] in reason, (value, reason)
    # everything after the duplicate is handled: it changed nothing
    found = await answered(pool, world.tenant, payout_id, "paid")
    assert found.bank_reference == reference and found.answered_at is not None
    assert await ledger.balance(world.tenant, PAYOUTS_PENDING) == 0
    verified = await ledger.verify(world.tenant)
    assert verified.ok, verified.problems
    assert (verified.payouts, verified.paid_out) == (Decimal(12500), Decimal(12500))
    assert (
        await count(
            pool,
            "SELECT count(*) AS n FROM postings WHERE tenant_id = %s AND kind = 'payout_paid'",
            world.tenant,
        )
        == 1
    )
    # the guardian is told once, and the bank's answer is in the audit trail
    assert (
        await count(
            pool,
            "SELECT count(*) AS n FROM guardian_inbox WHERE tenant_id = %s AND guardian_id = %s "
            "AND kind = 'payout_paid' AND payload->>'payoutId' = %s",
            world.tenant,
            f"g-{student}",
            payout_id,
        )
        == 1
    )
    assert (
        await count(
            pool,
            "SELECT count(*) AS n FROM audit_log WHERE tenant_id = %s AND action = 'payout.paid' "
            "AND target = %s AND details->>'bankReference' = %s",
            world.tenant,
            f"payout:{payout_id}",
            reference,
        )
        == 1
    )


async def test_a_rejected_payout_is_sent_again_from_the_office_and_paid(
    stack: Settings,
    pool: Pool,
    client: httpx.AsyncClient,
    pages: httpx.AsyncClient,
    processes: Settings,
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student()
    second = f"g2-{student}"
    await world.post("/v1/guardians", {"id": second, "display_name": "Pak Budi"}, world.admin)
    await world.post(f"/v1/guardians/{second}/students/{student}", {}, world.admin)
    await world.top_up(student, "8000")
    ledger = Ledger(pool)
    first = await leaves(world, student, f"g-{student}")

    await answer_payouts(
        processes,
        answer(world.tenant, first, "rejected", bankReference="R-1", reason="rekening ditutup"),
        key=first.encode(),
    )
    rejected = await answered(pool, world.tenant, first, "rejected")
    assert rejected.rejection_reason == "rekening ditutup"
    # the money stays owed to the family
    assert await ledger.balance(world.tenant, PAYOUTS_PENDING) == Decimal(8000)
    assert (await ledger.verify(world.tenant)).ok

    # the office shows it, among the payouts to send again and on the student's page
    await staff_session(pages, stack, world)
    listed = await pages.get("/office/students")
    assert f'data-payout="{first}"' in listed.text and "rekening ditutup" in listed.text
    page = f"/office/students/{student}"
    shown = await pages.get(page)
    assert "rekening ditutup" in shown.text and f"/office/payouts/{first}/send-again" in shown.text
    # sent again only with the session's CSRF token
    forged = await pages.post(f"/office/payouts/{first}/send-again", data={"guardian_id": second})
    assert forged.status_code == 403
    token = await csrf_of(pages, page)
    sent = await pages.post(
        f"/office/payouts/{first}/send-again", data={"csrf_token": token, "guardian_id": second}
    )
    assert sent.status_code == 303 and sent.headers["location"].endswith("?done=sent_again#payouts")
    again = await pages.post(
        f"/office/payouts/{first}/send-again", data={"csrf_token": token, "guardian_id": second}
    )
    assert "done=sent_again_already" in again.headers["location"]
    newest, old = await Payouts(pool).of_student(world.tenant, student)
    assert (old.id, old.replaced_by) == (first, newest.id)
    assert (newest.replaces, newest.guardian_id, newest.amount) == (first, second, Decimal(8000))
    [request] = await payout_requests(stack, newest.id)
    assert (request["guardianId"], request["amount"]) == (second, "8000.0000")
    assert await ledger.balance(world.tenant, PAYOUTS_PENDING) == Decimal(8000)
    assert (
        await count(
            pool,
            "SELECT count(*) AS n FROM audit_log WHERE tenant_id = %s "
            "AND action = 'payout.send_again' AND target = %s",
            world.tenant,
            f"payout:{first}",
        )
        == 1
    )

    # the bank pays the new one; an answer for the rejected one cannot be taken any more
    late = answer(world.tenant, first, "paid", bankReference="R-2")
    await answer_payouts(
        processes,
        answer(world.tenant, newest.id, "paid", bankReference="R-3"),
        late,
        key=first.encode(),
    )
    letters = await dead_letters(processes, 1)
    assert list(letters) == [late] and f"sent again as '{newest.id}'" in letters[late]
    await answered(pool, world.tenant, newest.id, "paid")
    assert await ledger.balance(world.tenant, PAYOUTS_PENDING) == 0
    verified = await ledger.verify(world.tenant)
    assert verified.ok and verified.paid_out == Decimal(8000), verified.problems
    shown = await pages.get(page)
    assert "send-again" not in shown.text and "R-3" in shown.text
    # a paid payout is not sent again: the office says so in its language
    paid_again = await pages.post(
        f"/office/payouts/{newest.id}/send-again", data={"csrf_token": token}
    )
    assert paid_again.status_code == 409, paid_again.text
    assert alert(paid_again) == (
        f"pembayaran kembali '{newest.id}' berstatus dibayar: hanya pembayaran yang ditolak "
        "bank yang dikirim ulang"
    )

    # the JSON API sends again under the same rules: only a rejected payout
    staff = world.token(Role.SCHOOL_STAFF, school=world.school)
    path = f"/v1/schools/{world.school}/payouts/{newest.id}/send-again"
    refused = await client.post(path, json={}, headers=staff)
    assert refused.status_code == 409 and "only a payout the bank rejected" in refused.text
    repeated = await client.post(
        f"/v1/schools/{world.school}/payouts/{first}/send-again", json={}, headers=staff
    )
    assert repeated.status_code == 200, repeated.text
    assert repeated.json()["created"] is False
    assert repeated.json()["payout"]["id"] == newest.id
    other_school = world.token(Role.SCHOOL_STAFF, school=f"{world.school}-x")
    assert (await client.post(path, json={}, headers=other_school)).status_code == 403
