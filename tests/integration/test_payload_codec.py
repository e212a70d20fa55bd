"""Workflow payloads are sealed before Temporal stores them, and opened only through the codec
endpoint, for the operators and admins of their tenant, with every decode audited.

The store test reads the Temporal server's own SQLite file (and its WAL) byte by byte after
a kiosk payment, a top-up, an enrolment, a stream batch and its case, looking for the
exact strings the test put into those workflows; the same strings are first found in the
histories opened with the codec, so the search looks for what really travelled."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from fastapi import FastAPI
from google.protobuf.json_format import MessageToDict
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.converter import default as default_converter

from activities.accounts import create_user
from activities.monitoring.config_store import ConfigStore, import_bundle
from activities.monitoring.history import HistoryStore, Incoming
from activities.payload_audit import PayloadAudit
from activities.web_sessions import SESSION_COOKIE
from api.intake.messages import parse_message
from api.intake.service import Intake
from core.biometrics.types import TemplateRef, load_workflow_id
from core.cases import case_workflow_id
from core.db import Pool
from core.security import Role
from core.settings import Settings
from core.temporal.client import payload_keys_for
from core.temporal.codec import EncryptionCodec, decode_message, payloads_in
from devices.sensor.simulator import SensorSimulator
from saku.iso20022_samples import financial_transaction
from tests.integration.case_world import csrf_of, raise_alert
from tests.integration.test_kiosk_fingerprints import agent_for
from tests.integration.test_monitoring import (
    REPORTABLE,
    bundle,
    confirm_when_awaited,
    msg_id,
    operator,
)
from tests.integration.wallet_world import World, build_world
from tests.stackutil import eventually

pytestmark = pytest.mark.integration

NAME = "Zulaikha Rahmawati"  # a payer's name, and the person a case note names
ENCRYPTED = base64.b64encode(b"binary/encrypted").decode()
JSON = default_converter().payload_converter


async def payload_texts(temporal: Client, codec: EncryptionCodec, workflow_id: str) -> str:
    """Every payload of the workflow's history, as stored and opened (data and metadata)."""
    history = await temporal.get_workflow_handle(workflow_id).fetch_history()
    texts = []
    for event in history.events:
        texts += [str(p) for p in payloads_in(event)]
        decode_message(event, codec)
        texts += [
            p.data.decode(errors="replace") + repr(dict(p.metadata)) for p in payloads_in(event)
        ]
    return "\n".join(texts)


async def test_temporal_s_own_store_holds_no_plaintext_personal_data(
    stack: Settings,
    pool: Pool,
    valkey: redis.Redis,
    client: httpx.AsyncClient,
    temporal: Client,
    bank: str,
    tmp_path: Path,
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student()
    account = f"ID{uuid.uuid4().int % 10**16:016d}"
    topup = await world.post(
        "/v1/topups",
        {
            "topupId": f"bank-{uuid.uuid4().hex[:10]}",
            "studentId": student,
            "amount": "81937",
            "payerAccount": account,
            "payerName": NAME,
        },
        world.token(Role.INTEGRATION),
    )
    assert topup["status"] == "credited"
    paid = await world.pay(student, "6413")
    assert paid["status"] == "approved"
    # an enrolment: consent, two reads at the kiosk, the template distributed
    staff = world.token(Role.SCHOOL_STAFF, school=world.school)
    consent = {"party": f"guardian:g-{student}", "decision": "consent"}
    path = f"/v1/students/{student}/biometrics/consent"
    assert (await world.client.post(path, json=consent, headers=staff)).status_code == 200
    with SensorSimulator(seed=12) as simulator:
        agent = agent_for(world, simulator, tmp_path)
        simulator.place_finger("zulaikha-right-thumb")
        await agent.enrol(student, 6, "staff-ani")
        await agent.sync_sensor()
        by_finger = await agent.pay_by_fingerprint(Decimal(2500))
    assert by_finger.approved
    # a stream batch whose alert opens a case, decided with a note naming a person
    await import_bundle(ConfigStore(pool), bank, bundle("1.0.0"))
    alerting = financial_transaction(amount=REPORTABLE, tenant_id=bank)
    quiet = financial_transaction(amount=1_000.0, tenant_id=bank)
    intake = Intake(pool, HistoryStore(pool, valkey), temporal, stack.task_queue)
    incoming = [
        Incoming(parse_message(m, bank), json.dumps(m), "kafka")
        for p in (alerting, quiet)
        for m in p
    ]
    receipts = await intake.submit(incoming, micro_batch=True)
    alert_id = msg_id(alerting.pacs002)
    [batch_id] = {r.workflow_id for r in receipts if r.msg_id == alert_id}
    assert batch_id is not None
    await temporal.get_workflow_handle(batch_id).result()
    note = f"{NAME} paid the school fees"
    decided = await client.post(
        f"/tenants/{bank}/cases/{alert_id}/decision",
        json={"outcome": "false_positive", "note": note},
        headers=World(stack, client, bank, "", "", world.kiosk).token(Role.OPERATOR),
    )
    assert decided.status_code == 202, decided.text
    supervisor = World(stack, client, bank, "", "", world.kiosk).token(Role.SUPERVISOR)

    async def confirmed() -> bool:  # interdicted: four eyes, once the decision is recorded
        answer = await client.post(
            f"/tenants/{bank}/cases/{alert_id}/confirmation",
            json={"note": "agreed"},
            headers=supervisor,
        )
        assert answer.status_code in (202, 409), answer.text
        return answer.status_code == 202

    assert await eventually(confirmed, timeout=20)
    assert await temporal.get_workflow_handle(case_workflow_id(bank, alert_id)).result()

    codec = EncryptionCodec(payload_keys_for(stack))
    histories = {
        workflow_id: await payload_texts(temporal, codec, workflow_id)
        for workflow_id in (
            paid["workflow_id"],
            topup["workflow_id"],
            load_workflow_id(TemplateRef(world.tenant, student, 6)),
            batch_id,
            case_workflow_id(bank, alert_id),
        )
    }
    opened = "\n".join(histories.values())
    amounts = [f"{a}.0000" for a in ("81937", "6413")]
    needles = [student, account, NAME, *amounts]
    for needle in needles:  # they travelled through Temporal, sealed
        assert needle in opened, needle
    assert all("binary/encrypted" in texts for texts in histories.values())

    store = stack.temporal_db_file
    files = [p for p in (store, store.with_name(store.name + "-wal")) if p.exists()]
    assert store in files
    for file in files:
        content = file.read_bytes()
        leaked = [needle for needle in needles if needle.encode() in content]
        assert leaked == [], file.name


# --- the codec endpoint -------------------------------------------------------------------


def body_of(*payloads: Payload) -> dict[str, Any]:
    return {"payloads": [MessageToDict(p) for p in payloads]}


def values_of(answer: httpx.Response) -> list[Any]:
    assert answer.status_code == 200, answer.text
    return [json.loads(base64.b64decode(p["data"])) for p in answer.json()["payloads"]]


async def a_payment(stack: Settings, pool: Pool, client: httpx.AsyncClient) -> tuple[World, str]:
    world = await build_world(stack, pool, client)
    student = await world.student()
    await world.top_up(student, "20000")
    paid = await world.pay(student, "3500")
    return world, str(paid["workflow_id"])


async def test_operators_and_admins_of_the_tenant_decode_others_are_refused_and_all_audited(
    stack: Settings, pool: Pool, client: httpx.AsyncClient, temporal: Client
) -> None:
    world, workflow_id = await a_payment(stack, pool, client)
    history = await temporal.get_workflow_handle(workflow_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    [request] = started.input.payloads
    memo = started.memo.fields["movement"]
    assert request.metadata["saku-tenant"] == world.tenant.encode()
    assert b"saku-tenant" not in memo.metadata  # no tenant field: found by its workflow
    body = body_of(request, memo)
    ns = {"X-Namespace": stack.temporal_namespace}

    operator = world.token(Role.OPERATOR, subject="operator-rina") | ns
    [decoded_request, decoded_memo] = values_of(
        await client.post("/codec/decode", json=body, headers=operator)
    )
    assert decoded_request["tenant_id"] == world.tenant
    assert decoded_memo["amount"] == "3500.0000"
    assert values_of(await client.post("/codec/decode", json=body, headers=world.admin | ns))

    for role in (Role.GUARDIAN, Role.ANALYST, Role.SCHOOL_STAFF, Role.INTEGRATION):
        refused = await client.post("/codec/decode", json=body, headers=world.token(role) | ns)
        assert refused.status_code == 403, (role, refused.text)
    missing = await client.post("/codec/decode", json=body, headers=ns)
    assert missing.status_code == 401
    other = World(stack, client, "another-tenant", "", "", world.kiosk)
    for role in (Role.OPERATOR, Role.ADMIN):
        for payload in (request, memo):  # by its sealed tenant, and by its workflow's
            refused = await client.post(
                "/codec/decode", json=body_of(payload), headers=other.token(role) | ns
            )
            assert refused.status_code == 403, refused.text
            assert "another tenant" in refused.json()["detail"]
    wrong_namespace = await client.post(
        "/codec/decode", json=body, headers=operator | {"X-Namespace": "default"}
    )
    assert wrong_namespace.status_code == 400
    tampered = Payload()
    tampered.CopyFrom(request)
    tampered.data = tampered.data[:-1] + bytes([tampered.data[-1] ^ 1])
    broken = await client.post("/codec/decode", json=body_of(tampered), headers=operator)
    assert broken.status_code == 422 and "does not open" in broken.text
    not_base64 = await client.post(
        "/codec/decode", json={"payloads": [{"metadata": {}, "data": "%%"}]}, headers=operator
    )
    assert not_base64.status_code == 422

    # a payload of no tenant's workflow: admins only
    codec = EncryptionCodec(payload_keys_for(stack), workflow_id="no-such-workflow")
    orphan = codec.seal(JSON.to_payload({"backup": "b-1"}))
    orphan_body = body_of(orphan)
    assert (
        await client.post("/codec/decode", json=orphan_body, headers=operator)
    ).status_code == 403
    assert values_of(await client.post("/codec/decode", json=orphan_body, headers=world.admin))

    # the UI's page address names the workflow when the payloads do not
    page = f"http://127.0.0.1:{stack.temporal_ui_port}/namespaces/saku/workflows/{workflow_id}/r/history"
    plain = JSON.to_payload({"hello": "world"})
    values_of(
        await client.post(
            "/codec/decode", json=body_of(plain), headers=operator | {"Referer": page}
        )
    )

    records = await PayloadAudit(pool).decodes(world.tenant)
    mine = [r for r in records if r.actor == "operator-rina"]
    assert len(mine) == 2  # the two decodes the operator was allowed
    assert {r.target for r in mine} == {f"workflow:{workflow_id}"}
    assert all(r.actor_role == "operator" for r in mine)
    assert mine[-1].details["sealed"] == 2 and mine[0].details["sealed"] == 0


async def test_encode_seals_for_the_caller_s_tenant_only(
    stack: Settings, pool: Pool, client: httpx.AsyncClient
) -> None:
    world = await build_world(stack, pool, client)
    operator = world.token(Role.OPERATOR)
    mine = JSON.to_payload({"tenant_id": world.tenant, "note": "resend"})
    sealed = await client.post("/codec/encode", json=body_of(mine), headers=operator)
    assert sealed.status_code == 200, sealed.text
    [payload] = sealed.json()["payloads"]
    assert base64.b64decode(payload["metadata"]["saku-tenant"]) == world.tenant.encode()
    assert payload["metadata"]["encoding"] == ENCRYPTED
    assert values_of(await client.post("/codec/decode", json=sealed.json(), headers=operator)) == [
        {"tenant_id": world.tenant, "note": "resend"}
    ]
    theirs = JSON.to_payload({"tenant_id": "another-tenant"})
    refused = await client.post("/codec/encode", json=body_of(theirs), headers=operator)
    assert refused.status_code == 403


async def test_the_ui_origin_may_call_the_codec_with_credentials_and_no_other_origin(
    stack: Settings, client: httpx.AsyncClient
) -> None:
    origin = f"http://127.0.0.1:{stack.temporal_ui_port}"
    preflight = {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace,authorization",
    }
    answer = await client.options("/codec/decode", headers=preflight)
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == origin
    assert answer.headers["access-control-allow-credentials"] == "true"
    allowed = answer.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "x-namespace"} <= set(allowed.split(", "))
    stranger = await client.options(
        "/codec/decode", headers=preflight | {"Origin": "http://evil.example"}
    )
    assert "access-control-allow-origin" not in stranger.headers
    # other routes are not opened to the UI's pages
    other = await client.options("/auth/me", headers=preflight)
    assert "access-control-allow-origin" not in other.headers


@asynccontextmanager
async def console_session(
    app: FastAPI, username: str, password: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of its own, signed in at the console's sign-in page (its form, its CSRF)."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://saku.test"
    ) as person:
        yield await signed_in_at_console(person, username, password)


async def signed_in_at_console(
    person: httpx.AsyncClient, username: str, password: str
) -> httpx.AsyncClient:
    form = await person.get("/sign-in")
    signed_in = await person.post(
        "/sign-in",
        data={"username": username, "password": password, "csrf_token": csrf_of(form.text)},
    )
    assert signed_in.status_code == 303, signed_in.text
    cookie = signed_in.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    return person


async def test_the_console_session_of_an_operator_decodes_and_ends_with_signing_out(
    stack: Settings, pool: Pool, app: FastAPI, client: httpx.AsyncClient, temporal: Client
) -> None:
    world, workflow_id = await a_payment(stack, pool, client)
    password = "codec-pass-" + uuid.uuid4().hex[:8]
    roles = (Role.OPERATOR, Role.ANALYST, Role.GUARDIAN)
    names = {role: f"{role.value}-{uuid.uuid4().hex[:6]}" for role in roles}
    async with pool.connection() as conn:
        for role, username in names.items():
            await create_user(
                conn, tenant_id=world.tenant, username=username, password=password, role=role
            )
    history = await temporal.get_workflow_handle(workflow_id).fetch_history()
    [request] = history.events[0].workflow_execution_started_event_attributes.input.payloads
    body = body_of(request)

    nobody = await client.post("/codec/decode", json=body)
    assert nobody.status_code == 401 and "/sign-in" in nobody.json()["detail"]
    for role in (Role.ANALYST, Role.GUARDIAN):
        async with console_session(app, names[role], password) as other:
            refused = await other.post("/codec/decode", json=body)
            assert refused.status_code == 403, (role, refused.text)

    async with console_session(app, names[Role.OPERATOR], password) as operator:
        session_id = operator.cookies[SESSION_COOKIE]
        answer = await operator.post("/codec/decode", json=body)
        assert values_of(answer)[0]["tenant_id"] == world.tenant
        record = (await PayloadAudit(pool).decodes(world.tenant))[0]
        assert record.reason == "codec endpoint (console session)"
        assert record.target == f"workflow:{workflow_id}"

        home = await operator.get("/", follow_redirects=True)
        signed_out = await operator.post("/sign-out", data={"csrf_token": csrf_of(home.text)})
        assert signed_out.status_code == 303, signed_out.text
        # the browser may keep the old cookie: the session is gone on the server all the same
        operator.cookies.set(SESSION_COOKIE, session_id)
        ended = await operator.post("/codec/decode", json=body)
        assert ended.status_code == 401, ended.text
        assert "/sign-in" in ended.json()["detail"]


# --- search attributes that tell the outcome ----------------------------------------------


async def test_visibility_finds_payments_top_ups_and_cases_by_their_status_and_score(
    stack: Settings, pool: Pool, client: httpx.AsyncClient, temporal: Client, bank: str
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student()
    credited = await world.top_up(student, "5000")
    over_cap = await world.top_up(student, "2500000")  # beyond the e-money cap
    approved = await world.pay(student, "1500")
    short = await world.pay(student, "900000")  # more than the balance
    assert (credited["status"], over_cap["status"]) == ("credited", "declined")
    assert (approved["status"], short["status"]) == ("approved", "declined")
    expected = {
        ("payment", "approved"): approved,
        ("payment", "declined"): short,
        ("topup", "credited"): credited,
        ("topup", "declined"): over_cap,
    }
    tenant = f'SakuTenant = "{world.tenant}"'

    async def found(query: str) -> list[str]:
        return sorted([w.id async for w in temporal.list_workflows(f"{tenant} AND {query}")])

    for (kind, status), receipt in expected.items():
        query = f'SakuKind = "{kind}" AND SakuStatus = "{status}"'

        async def listed(query: str = query, receipt: dict[str, Any] = receipt) -> bool:
            return await found(query) == [receipt["workflow_id"]]

        assert await eventually(listed, timeout=20), (query, await found(query))
    # the monitoring engine screened every one of them, declined ones too: each has a score
    scored = await found("SakuScore >= 0")
    assert scored == sorted(r["workflow_id"] for r in expected.values())

    # the Temporal UI's own list API answers the same
    ui = f"http://127.0.0.1:{stack.temporal_ui_port}"
    async with httpx.AsyncClient(base_url=ui, timeout=10) as http:
        answer = await http.get(
            f"/api/v1/namespaces/{stack.temporal_namespace}/workflows",
            params={"query": f'{tenant} AND SakuKind = "payment" AND SakuStatus = "declined"'},
        )
    assert answer.status_code == 200, answer.text
    listed_ids = [e["execution"]["workflowId"] for e in answer.json()["executions"]]
    assert listed_ids == [short["workflow_id"]]

    # a case, by where it stands: an interdicted payment's decision awaits a supervisor,
    # then the case has its outcome
    await import_bundle(ConfigStore(pool), bank, bundle("1.0.0"))
    alert_id = await raise_alert(client, stack, bank)
    case_id = case_workflow_id(bank, alert_id)

    async def case_is(status: str) -> bool:
        query = f'SakuTenant = "{bank}" AND SakuKind = "case" AND SakuStatus = "{status}"'
        return [w.id async for w in temporal.list_workflows(query)] == [case_id]

    decided = await client.post(
        f"/tenants/{bank}/cases/{alert_id}/decision",
        json={"outcome": "false_positive", "note": "the parents' school fees"},
        headers=operator(stack, bank),
    )
    assert decided.status_code == 202, decided.text
    assert await eventually(lambda: case_is("awaiting_confirmation"), timeout=20)
    await confirm_when_awaited(client, stack, bank, alert_id)
    assert await temporal.get_workflow_handle(case_id).result() == "false_positive"
    assert await eventually(lambda: case_is("false_positive"), timeout=20)
