"""Fingerprints through the real API and workflows: no enrolment without consent; an
enrolled template reaches every kiosk of the school; withdrawal erases it at rest at once
and from every kiosk as each confirms (an offline one when it returns), with an audit
record; the template never sits in plaintext in the database or a workflow history."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from core.biometrics.types import TemplateRef, erase_workflow_id, load_workflow_id
from core.db import Pool
from core.kiosk_signing import sign_request
from core.security import Role
from core.settings import Settings
from tests.integration.wallet_world import Kiosk, World, add_kiosk, build_world
from tests.stackutil import eventually

pytestmark = pytest.mark.integration


def template() -> bytes:
    half = bytes([0x03, 0x01]) + os.urandom(126) + bytes(128)
    return half + bytes([0x03, 0x01]) + os.urandom(126) + bytes(128)


async def signed(
    world: World, kiosk: Kiosk, method: str, path: str, body: Any = None
) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    headers = sign_request(
        kiosk.private_key, world.tenant, kiosk.id, kiosk.key_id, method, path, content
    )
    headers["Content-Type"] = "application/json"
    return await world.client.request(method, path, content=content, headers=headers)


async def carry_out(world: World, kiosk: Kiosk) -> list[dict[str, Any]]:
    """What a kiosk agent does: fetch its sensor commands and confirm each."""
    response = await signed(world, kiosk, "GET", "/v1/kiosk/sensor/commands")
    assert response.status_code == 200, response.text
    commands: list[dict[str, Any]] = response.json()
    for command in commands:
        done = await signed(world, kiosk, "POST", f"/v1/kiosk/sensor/commands/{command['id']}/done")
        assert done.status_code == 204, done.text
    return commands


async def workflow_done(temporal: Client, workflow_id: str) -> bool:
    description = await temporal.get_workflow_handle(workflow_id).describe()
    return description.status is not None and description.status.name == "COMPLETED"


async def test_consent_enrolment_distribution_and_erasure_everywhere(
    stack: Settings, pool: Pool, client: httpx.AsyncClient, temporal: Client
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student()
    second = await add_kiosk(world, f"{world.kiosk.id}-b")
    staff = world.token(Role.SCHOOL_STAFF, school=world.school)
    sealed = template()
    enrolment = {
        "student_id": student,
        "finger": 2,
        "operator_id": "staff-ani",
        "template": base64.b64encode(sealed).decode(),
    }

    refused = await signed(world, world.kiosk, "POST", "/v1/kiosk/enrolments", enrolment)
    assert refused.status_code == 403
    assert "no guardian has consented" in refused.json()["detail"]

    path = f"/v1/students/{student}/biometrics"
    consent = await world.client.post(
        f"{path}/consent",
        json={"party": f"guardian:g-{student}", "decision": "consent"},
        headers=staff,
    )
    assert consent.status_code == 200, consent.text
    assert consent.json()["allowed"] is True

    enrolled = await signed(world, world.kiosk, "POST", "/v1/kiosk/enrolments", enrolment)
    assert enrolled.status_code == 202, enrolled.text
    for kiosk in (world.kiosk, second):
        [load] = await carry_out(world, kiosk)
        assert (load["action"], load["student_id"], load["finger"]) == ("load", student, 2)
        assert base64.b64decode(load["template"]) == sealed
    load_id = load_workflow_id(TemplateRef(world.tenant, student, 2))
    await eventually(lambda: workflow_done(temporal, load_id), timeout=20)
    status = await world.client.get(path, headers=world.guardian(student))
    assert status.json() == {
        "allowed": True,
        "reason": "1 guardian(s) consent, none object",
        "fingers": [2],
    }

    # nowhere in plaintext: not in the database, not in the workflow's history
    async with pool.connection() as conn:
        rows = await (
            await conn.execute(
                "SELECT ciphertext FROM biometric_templates WHERE tenant_id = %s",
                (world.tenant,),
            )
        ).fetchall()
    assert rows and all(sealed[2:120] not in bytes(r["ciphertext"]) for r in rows)
    history = await temporal.get_workflow_handle(load_id).fetch_history()
    text = history.to_json()
    assert base64.b64encode(sealed).decode()[:40] not in text and sealed[2:60].hex() not in text

    # the guardian withdraws: erased at rest at once, then from each kiosk as it confirms
    withdrawn = await world.client.post(
        f"{path}/consent",
        json={"party": f"guardian:g-{student}", "decision": "withdraw"},
        headers=staff,
    )
    assert withdrawn.json()["allowed"] is False

    async def erased_at_rest() -> bool:
        response = await world.client.get(path, headers=staff)
        return bool(response.json()["fingers"] == [])

    await eventually(erased_at_rest, timeout=20)
    [delete] = await carry_out(world, world.kiosk)
    assert (delete["action"], delete["student_id"], delete["finger"]) == ("delete", student, 2)
    erase_id = erase_workflow_id(world.tenant, student)
    await asyncio.sleep(1)
    assert not await workflow_done(temporal, erase_id)  # the second kiosk is "offline"
    [late] = await carry_out(world, second)  # ... and gets its delete when it returns
    assert late["action"] == "delete"
    await eventually(lambda: workflow_done(temporal, erase_id), timeout=20)

    async with pool.connection() as conn:
        audit = await (
            await conn.execute(
                "SELECT action, details FROM audit_log WHERE tenant_id = %s AND target = %s "
                "ORDER BY id",
                (world.tenant, f"student:{student}"),
            )
        ).fetchall()
    assert [a["action"] for a in audit] == ["biometric.erase", "biometric.erase_kiosks"]
    assert sorted(k["kiosk"] for k in audit[1]["details"]["kiosks"]) == sorted(
        [world.kiosk.id, second.id]
    )
    again = await signed(world, world.kiosk, "POST", "/v1/kiosk/enrolments", enrolment)
    assert again.status_code == 403
    assert "withdrawn" in again.json()["detail"]


async def test_a_guardian_records_only_their_own_decision_and_the_child_can_refuse(
    stack: Settings, pool: Pool, client: httpx.AsyncClient
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student()
    path = f"/v1/students/{student}/biometrics/consent"
    other = await world.client.post(
        path,
        json={"party": "guardian:someone-else", "decision": "consent"},
        headers=world.guardian(student),
    )
    assert other.status_code == 403
    staff = world.token(Role.SCHOOL_STAFF, school=world.school)
    mixed = await world.client.post(
        path, json={"party": "student", "decision": "consent"}, headers=staff
    )
    assert mixed.status_code == 422
    await world.client.post(
        path, json={"party": f"guardian:g-{student}", "decision": "consent"}, headers=staff
    )
    refused = await world.client.post(
        path, json={"party": "student", "decision": "refuse"}, headers=staff
    )
    assert refused.json() == {"allowed": False, "reason": "the student refuses", "fingers": []}


async def test_a_student_who_leaves_has_their_fingerprints_erased(
    stack: Settings, pool: Pool, client: httpx.AsyncClient
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student()
    staff = world.token(Role.SCHOOL_STAFF, school=world.school)
    path = f"/v1/students/{student}/biometrics"
    await world.client.post(
        f"{path}/consent",
        json={"party": f"guardian:g-{student}", "decision": "consent"},
        headers=staff,
    )
    enrolment = {
        "student_id": student,
        "finger": 1,
        "operator_id": "staff-ani",
        "template": base64.b64encode(template()).decode(),
    }
    assert (
        await signed(world, world.kiosk, "POST", "/v1/kiosk/enrolments", enrolment)
    ).status_code == 202
    left = await world.client.put(
        f"/v1/schools/{world.school}/students/{student}/status",
        json={"status": "left", "reason": "moved to another city"},
        headers=staff,
    )
    assert left.status_code == 200, left.text

    async def erased() -> bool:
        return bool((await world.client.get(path, headers=staff)).json()["fingers"] == [])

    await eventually(erased, timeout=20)
    # the kiosk had not synced yet: its load was cancelled, a delete (to be safe) remains
    [delete] = await carry_out(world, world.kiosk)
    assert (delete["action"], delete["student_id"]) == ("delete", student)
    paid = await world.pay(student, "100")
    assert paid["reason_code"] == "student_inactive"
