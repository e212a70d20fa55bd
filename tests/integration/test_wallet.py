"""The wallet end to end through the real API and stack: top up, pay at a signed kiosk,
limits and category blocks decline with their reasons, refunds restore, retries post once."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
import pytest

from core.db import Pool
from core.security import Role
from core.settings import Settings
from tests.integration.wallet_world import PIN, World, build_world

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def world(stack: Settings, pool: Pool, client: httpx.AsyncClient) -> World:
    return await build_world(stack, pool, client)


async def postings(pool: Pool, tenant: str, key: str) -> int:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT count(*) AS n FROM postings WHERE tenant_id = %s AND idempotency_key = %s",
            (tenant, key),
        )
        row = await cur.fetchone()
    assert row is not None
    return int(row["n"])


async def test_top_up_then_pay_moves_the_balance_exactly(world: World, pool: Pool) -> None:
    student = await world.student()
    credited = await world.top_up(student, "50000")
    assert credited["status"] == "credited", credited
    assert credited["balance_after"] == "50000.0000"
    assert credited["monitoring_status"] in ("ALRT", "NALT")

    paid = await world.pay(student, "12500", category_id="meals")
    assert paid["status"] == "approved", paid
    assert paid["reason"] is None
    assert paid["balance_after"] == "37500.0000"
    assert paid["evaluation_id"] and paid["posting_id"]
    assert await world.balance(student) == "37500.0000"

    wallet = (
        await world.client.get(f"/v1/students/{student}/wallet", headers=world.guardian(student))
    ).json()
    assert [(m["kind"], m["amount"], m["status"]) for m in wallet["movements"]] == [
        ("purchase", "12500.0000", "approved"),
        ("topup", "50000.0000", "credited"),
    ]
    # the monitoring engine evaluated both movements, each once
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT tx_type FROM evaluations WHERE tenant_id = %s AND evaluation_id = ANY(%s) "
            "ORDER BY tx_type",
            (
                world.tenant,
                [uuid.UUID(credited["evaluation_id"]), uuid.UUID(paid["evaluation_id"])],
            ),
        )
        assert [r["tx_type"] for r in await cur.fetchall()] == ["saku.purchase", "saku.topup"]


async def test_the_same_kiosk_transaction_twice_posts_once(world: World, pool: Pool) -> None:
    student = await world.student()
    await world.top_up(student, "20000")
    tx = world.kiosk_tx()
    first = await world.pay(student, "5000", tx=tx)
    again = await world.pay(student, "5000", tx=tx)  # a retry after a lost answer: new nonce
    assert again == first
    assert await postings(pool, world.tenant, f"kiosk:{world.kiosk.id}:{tx}") == 1
    assert await world.balance(student) == "15000.0000"

    reused = await world.pay_raw({"kiosk_tx_id": tx, "student_id": student, "amount": "7000"})
    assert reused.status_code == 409
    assert "already used" in reused.json()["detail"]
    assert await world.balance(student) == "15000.0000"

    looked_up = await world.client.get(f"/v1/kiosk/payments/{tx}", headers={})
    assert looked_up.status_code == 401  # kiosk routes need the kiosk's signature


async def test_the_same_top_up_twice_credits_once(world: World, pool: Pool) -> None:
    student = await world.student()
    first = await world.top_up(student, "10000", topup_id="bank-ref-dup-" + student)
    again = await world.top_up(student, "10000", topup_id="bank-ref-dup-" + student)
    assert again == first
    assert await world.balance(student) == "10000.0000"
    assert await postings(pool, world.tenant, f"topup:bank-ref-dup-{student}") == 1


async def test_a_guardian_daily_limit_declines_with_its_reason(world: World) -> None:
    student = await world.student()
    await world.top_up(student, "50000")
    response = await world.client.put(
        f"/v1/students/{student}/controls",
        json={"daily_limit": "10000", "weekly_limit": "40000"},
        headers=world.guardian(student),
    )
    assert response.status_code == 200, response.text
    assert Decimal(response.json()["daily_limit"]) == 10000

    assert (await world.pay(student, "6000"))["status"] == "approved"
    declined = await world.pay(student, "6000")
    assert declined["status"] == "declined"
    assert declined["reason_code"] == "daily_limit"
    assert declined["reason"] == "Daily limit reached."
    assert declined["posting_id"] is None
    # the declined attempt was still evaluated: the guardian-limit rule saw it breach
    assert declined["evaluation_id"] and declined["monitoring_status"] in ("ALRT", "NALT")
    assert await world.balance(student) == "44000.0000"
    # within the limit still works
    assert (await world.pay(student, "4000"))["status"] == "approved"


async def test_a_category_block_declines_and_other_categories_still_sell(world: World) -> None:
    student = await world.student()
    await world.top_up(student, "30000")
    response = await world.client.put(
        f"/v1/students/{student}/controls/categories/sugary-drinks",
        json={"blocked": True},
        headers=world.guardian(student),
    )
    assert response.status_code == 200, response.text
    assert response.json()["categories"] == [
        {"category_id": "sugary-drinks", "blocked": True, "daily_limit": None}
    ]
    declined = await world.pay(student, "5000", category_id="sugary-drinks")
    assert (declined["status"], declined["reason_code"]) == ("declined", "category_blocked")
    assert declined["reason"] == "Sugary drinks is blocked by your parent."
    assert (await world.pay(student, "5000", category_id="snacks"))["status"] == "approved"
    assert await world.balance(student) == "25000.0000"

    unknown = await world.pay(student, "1000", category_id="no-such-category")
    assert unknown["reason_code"] == "unknown_category"


async def test_not_enough_money_declines_and_moves_nothing(world: World) -> None:
    student = await world.student()
    await world.top_up(student, "3000")
    declined = await world.pay(student, "3500")
    assert (declined["status"], declined["reason"]) == (
        "declined",
        "Not enough money in your wallet.",
    )
    assert await world.balance(student) == "3000.0000"


async def test_a_refund_restores_and_is_audited(world: World, pool: Pool) -> None:
    student = await world.student()
    await world.top_up(student, "20000")
    paid = await world.pay(student, "8000")
    staff = world.token(Role.SCHOOL_STAFF, school=world.school, subject="staff-ani")
    path = f"/v1/schools/{world.school}/payments/{world.kiosk.id}/{paid['reference']}"

    no_reason = await world.client.post(f"{path}/refund", json={}, headers=staff)
    assert no_reason.status_code == 422
    refunded = await world.client.post(
        f"{path}/refund", json={"reason": "wrong item given"}, headers=staff
    )
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["balance_after"] == "20000.0000"
    assert await world.balance(student) == "20000.0000"

    twice = await world.client.post(f"{path}/refund", json={"reason": "again"}, headers=staff)
    assert twice.status_code == 409
    assert "refunded" in twice.json()["detail"]
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT actor, actor_role, action, reason FROM audit_log WHERE tenant_id = %s "
            "AND target = %s",
            (world.tenant, f"payment:{world.kiosk.id}/{paid['reference']}"),
        )
        rows = await cur.fetchall()
    assert [(r["actor"], r["actor_role"], r["action"], r["reason"]) for r in rows] == [
        ("staff-ani", "school_staff", "payment.refund", "wrong item given")
    ]
    wallet = (
        await world.client.get(f"/v1/students/{student}/wallet", headers=world.guardian(student))
    ).json()
    assert wallet["movements"][0]["status"] == "refunded"


async def test_a_void_reverses_todays_sale(world: World) -> None:
    student = await world.student()
    await world.top_up(student, "10000")
    paid = await world.pay(student, "2500")
    voided = await world.client.post(
        f"/v1/schools/{world.school}/payments/{world.kiosk.id}/{paid['reference']}/void",
        json={"reason": "rung up twice"},
        headers=world.token(Role.OPERATOR),
    )
    assert voided.status_code == 200, voided.text
    assert voided.json()["action"] == "void"
    assert await world.balance(student) == "10000.0000"


async def test_staff_of_another_school_cannot_refund(world: World) -> None:
    student = await world.student()
    await world.top_up(student, "10000")
    paid = await world.pay(student, "1000")
    other = world.token(Role.SCHOOL_STAFF, school="another-school")
    response = await world.client.post(
        f"/v1/schools/{world.school}/payments/{world.kiosk.id}/{paid['reference']}/refund",
        json={"reason": "not mine"},
        headers=other,
    )
    assert response.status_code == 403
    assert await world.balance(student) == "9000.0000"


async def test_a_top_up_beyond_the_e_money_cap_is_declined(world: World) -> None:
    student = await world.student()
    assert (await world.top_up(student, "1900000"))["status"] == "credited"
    over = await world.top_up(student, "200000")
    assert (over["status"], over["reason_code"]) == ("declined", "balance_cap")
    assert "2,000,000" in over["reason"]
    assert over["evaluation_id"]  # evaluated all the same: pushing at the cap is a signal
    assert await world.balance(student) == "1900000.0000"


async def test_a_guardian_sees_only_their_own_children(world: World) -> None:
    mine, theirs = await world.student(), await world.student()
    response = await world.client.get(f"/v1/students/{theirs}/wallet", headers=world.guardian(mine))
    assert response.status_code == 403
    controls = await world.client.put(
        f"/v1/students/{theirs}/controls", json={"daily_limit": "0"}, headers=world.guardian(mine)
    )
    assert controls.status_code == 403


async def test_bad_payment_requests_get_reasons(world: World) -> None:
    student = await world.student()
    for body, expected in (
        ({"kiosk_tx_id": "a b", "student_id": student, "amount": "100"}, "kiosk_tx_id"),
        ({"kiosk_tx_id": "ok-1", "student_id": student, "amount": "-5"}, "amount"),
        ({"kiosk_tx_id": "ok-2", "student_id": student}, "amount"),
        (
            {
                "kiosk_tx_id": "ok-3",
                "student_id": student,
                "amount": "1",
                "sold_at": "2026-01-01T00:00:00",
            },
            "timezone",
        ),
    ):
        response = await world.pay_raw(body)
        assert response.status_code == 422, response.text
        assert expected in response.text
    unknown = await world.pay("nobody-here", "100")
    assert (unknown["status"], unknown["reason_code"]) == ("declined", "unknown_student")


async def test_guardians_are_notified_of_top_ups_declines_and_a_low_balance(
    world: World, pool: Pool
) -> None:
    student = await world.student(guardian_webhook="https://guardian-app.example/hooks/saku")
    await world.top_up(student, "20000")
    await world.client.put(
        f"/v1/students/{student}/controls",
        json={"daily_limit": "15000", "low_balance_threshold": "10000"},
        headers=world.guardian(student),
    )
    await world.pay(student, "6000")  # 14000 left: above the threshold
    await world.pay(student, "5000")  # 9000 left: below it, once
    await world.pay(student, "1000")  # still below: no second notice
    await world.pay(student, "5000")  # 17000 today > 15000: declined by the daily limit
    async with pool.connection() as conn:
        cur = await conn.execute(
            """SELECT o.kind, o.payload FROM notification_outbox o
               WHERE o.tenant_id = %s AND o.guardian_id = %s ORDER BY o.id""",
            (world.tenant, f"g-{student}"),
        )
        rows = await cur.fetchall()
    kinds = [r["kind"] for r in rows]
    assert kinds == ["topup_credited", "low_balance", "payment_declined"]
    assert rows[1]["payload"]["payload"]["balance"] == "9000.0000"
    assert rows[2]["payload"]["payload"]["reasonCode"] == "daily_limit"
    assert not any("template" in str(r["payload"]) for r in rows)


async def test_the_pin_fallback_checks_the_pin_and_locks_after_five_wrong_tries(
    world: World,
) -> None:
    student = await world.student()
    await world.top_up(student, "10000")
    paid = await world.pay(student, "1000", auth_method="pin", pin=PIN)
    assert paid["status"] == "approved"
    missing = await world.pay_raw(
        {
            "kiosk_tx_id": world.kiosk_tx(),
            "student_id": student,
            "amount": "1000",
            "auth_method": "pin",
        }
    )
    assert missing.status_code == 422
    for _ in range(5):
        wrong = await world.pay_raw(
            {
                "kiosk_tx_id": world.kiosk_tx(),
                "student_id": student,
                "amount": "1000",
                "auth_method": "pin",
                "pin": "0000",
            }
        )
        assert (wrong.status_code, wrong.json()["detail"]) == (403, "Wrong PIN. Please try again.")
    locked = await world.pay_raw(
        {
            "kiosk_tx_id": world.kiosk_tx(),
            "student_id": student,
            "amount": "1000",
            "auth_method": "pin",
            "pin": PIN,
        }
    )
    assert locked.status_code == 403 and "Too many wrong PINs" in locked.json()["detail"]
    assert await world.balance(student) == "9000.0000"
