"""Alerts handed off to a tenant's SIEM by their cases, on the real stack: a signed webhook to
a local HTTP receiver (allow-listed, as in development) and a CEF line to syslog listeners
over UDP and TCP, retried by the case workflow until they are taken, exactly once each."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from fastapi import FastAPI
from temporalio.client import Client, WorkflowExecutionStatus

from activities.alert_handoff.signing import verify
from activities.monitoring.config_store import ConfigStore, import_bundle
from activities.monitoring.history import HistoryStore, Incoming
from api.app import create_app
from api.intake.messages import parse_message
from api.intake.service import Intake
from core.cases import case_workflow_id
from core.db import Pool
from core.monitoring.types import EvaluationRequest
from core.security import Principal, Role, issue_token
from core.settings import Settings
from saku.iso20022_samples import financial_transaction
from saku.stack.components import ensure_topics
from saku.wiring import run_consumer, run_worker
from tests.integration.test_monitoring import REPORTABLE, bundle, evaluation, msg_id
from tests.integration.test_notifications import Receiver
from tests.stackutil import eventually
from workflows.evaluation import EvaluateBatchWorkflow

pytestmark = pytest.mark.integration

SECRET = "bank-siem-shared-secret-" + "z" * 16
# party names in the payments: none may reach a receiver
DEBTOR, CREDITOR = "siti_rahmawati", "budi_santoso"
RFC5424_CEF = re.compile(
    r"^<(?P<pri>\d{1,3})>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+ saku - alert - "
    r"CEF:0\|Saku\|Saku transaction monitoring\|1\.0\|saku:(?P<signature>\w+)\|"
    r"(?P<name>(?:\\.|[^\\|])*)\|(?P<severity>\d+)\|(?P<extension>.*)$"
)


def _extension(text: str) -> dict[str, str]:
    pairs = re.findall(r"(\w+)=((?:\\.|[^\\=])*?)(?=\s+\w+=|$)", text)
    return {
        k: re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m[1], m[1]), v) for k, v in pairs
    }


@dataclass
class SyslogListener:
    """Collects what arrives on a UDP port, or (over TCP) the octet-counted frames sent."""

    port: int = 0
    messages: list[str] = field(default_factory=list)

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.messages.append(data.decode())

    def connection_made(self, transport: object) -> None:
        pass

    def connection_lost(self, exc: object) -> None:
        pass

    def error_received(self, exc: object) -> None:
        pass

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read()
        while data:  # RFC 6587 octet counting: "LEN SP MSG", back to back
            length, _, rest = data.partition(b" ")
            self.messages.append(rest[: int(length)].decode())
            data = rest[int(length) :]
        writer.close()


@pytest.fixture
async def udp() -> AsyncIterator[SyslogListener]:
    listener = SyslogListener()
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: listener,  # type: ignore[arg-type,return-value]
        local_addr=("127.0.0.1", 0),
    )
    listener.port = transport.get_extra_info("sockname")[1]
    yield listener
    transport.close()


@pytest.fixture
async def tcp() -> AsyncIterator[SyslogListener]:
    listener = SyslogListener()
    server = await asyncio.start_server(listener.handle, "127.0.0.1", 0)
    listener.port = server.sockets[0].getsockname()[1]
    async with server:
        yield listener


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    async with server:
        yield receiver


@pytest.fixture
async def tenant(pool: Pool, bank: str) -> str:
    await import_bundle(ConfigStore(pool), bank, bundle("1.0.0"))
    return bank


async def confirm(api: httpx.AsyncClient, settings: Settings, tenant: str, alert_id: str) -> None:
    """A supervisor confirms the decision on an interdicted transaction, once the case
    workflow has recorded it (409 until then: the case awaits no confirmation yet)."""

    async def confirmed() -> bool:
        answer = await api.post(
            f"/tenants/{tenant}/cases/{alert_id}/confirmation",
            json={"note": "checked and agreed"},
            headers=token(settings, Role.SUPERVISOR, tenant),
        )
        assert answer.status_code in (202, 409), answer.text
        return answer.status_code == 202

    assert await eventually(confirmed, timeout=20)


def token(settings: Settings, role: Role, tenant: str) -> dict[str, str]:
    issued = issue_token(
        Principal(f"{role.value}-user", role, tenant),
        secret=settings.resolved_jwt_secret(),
        issuer=settings.jwt_issuer,
        ttl_seconds=600,
    )
    return {"Authorization": f"Bearer {issued}"}


@asynccontextmanager
async def _api(settings: Settings, tenant: str) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://saku.test",
            headers=token(settings, Role.INTEGRATION, tenant),
            timeout=30,
        ) as http,
    ):
        yield http


@pytest.fixture
async def api(processes: Settings, tenant: str) -> AsyncIterator[httpx.AsyncClient]:
    async with _api(processes, tenant) as http:
        yield http


@pytest.fixture
async def impatient(stack: Settings, task_queue: str) -> AsyncIterator[Settings]:
    """Worker and consumer of their own, whose cases try a receiver for 8 s only."""
    settings = stack.model_copy(
        update={
            "task_queue": task_queue,
            "consumer_group": f"group-{task_queue}",
            "topic_prefix": task_queue,
            "alert_handoff_retry_s": 8,
        }
    )
    await ensure_topics(settings.resolved_kafka_bootstrap(), settings.topic_prefix)
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(run_worker(settings, stop)),
        asyncio.create_task(run_consumer(settings, stop)),
    ]
    yield settings
    stop.set()
    await asyncio.gather(*tasks)


async def configure(
    api: httpx.AsyncClient, settings: Settings, tenant: str, **receivers: Any
) -> dict[str, Any]:
    response = await api.put(
        f"/tenants/{tenant}/alert-handoff",
        json=receivers,
        headers=token(settings, Role.ADMIN, tenant),
    )
    assert response.status_code == 200, response.text
    assert SECRET not in response.text
    return response.json()  # type: ignore[no-any-return]


async def deliveries(
    api: httpx.AsyncClient, settings: Settings, tenant: str
) -> dict[str, dict[str, Any]]:
    response = await api.get(
        f"/tenants/{tenant}/alert-handoff/deliveries",
        headers=token(settings, Role.OPERATOR, tenant),
    )
    assert response.status_code == 200, response.text
    return {d["channel"]: d for d in response.json()}


async def delivered(
    api: httpx.AsyncClient, settings: Settings, tenant: str, *channels: str, timeout: float
) -> dict[str, dict[str, Any]]:
    async def done() -> bool:
        found = await deliveries(api, settings, tenant)
        return all(found.get(c, {}).get("status") == "delivered" for c in channels)

    assert await eventually(done, timeout=timeout, interval=0.2)
    return await deliveries(api, settings, tenant)


def assert_signed(request: Any, now: float) -> dict[str, Any]:
    headers = request.headers
    assert verify(
        SECRET,
        headers["x-saku-timestamp"],
        headers["x-saku-signature"],
        request.body,
        now=now,
        tolerance_s=300,
    )
    body: dict[str, Any] = json.loads(request.body)
    assert headers["x-saku-alert-id"] == body["alertId"]
    return body


def assert_no_names(text: str) -> None:
    for name in (*DEBTOR.split("_"), *CREDITOR.split("_")):
        assert name.lower() not in text.lower(), name


def parse_cef(message: str) -> tuple[re.Match[str], dict[str, str]]:
    match = RFC5424_CEF.match(message)
    assert match is not None, message
    return match, _extension(match["extension"])


async def test_an_alert_reaches_the_webhook_signed_and_syslog_as_cef_over_udp(
    api: httpx.AsyncClient,
    processes: Settings,
    tenant: str,
    receiver: Receiver,
    udp: SyslogListener,
    temporal: Client,
) -> None:
    stored = await configure(
        api,
        processes,
        tenant,
        webhook_url=receiver.url("siem"),
        webhook_secret=SECRET,
        syslog_host="127.0.0.1",
        syslog_port=udp.port,
        syslog_transport="udp",
    )
    assert (stored["webhook_secret_set"], stored["syslog_transport"]) == (True, "udp")
    payment = financial_transaction(
        amount=REPORTABLE, tenant_id=tenant, debtor=DEBTOR, creditor=CREDITOR
    )
    for message in payment:
        response = await api.post(f"/v1/evaluate/iso20022/{message['TxTp']}", json=message)
        assert response.status_code == 202, response.text
    alert_id = msg_id(payment.pacs002)
    evaluated = await evaluation(api, tenant, alert_id)
    assert (evaluated["status"], evaluated["interdicted"]) == ("ALRT", True)

    found = await delivered(api, processes, tenant, "webhook", "syslog", timeout=30)
    assert (found["webhook"]["attempts"], found["syslog"]["attempts"]) == (1, 1)
    [request] = receiver.to("siem")
    body = assert_signed(request, now=time.time())
    assert (body["alertId"], body["msgId"], body["tenantId"]) == (
        evaluated["evaluationId"],
        alert_id,
        tenant,
    )
    assert (body["interdicted"], body["severity"], body["highestScore"]) == (True, 10, 400)
    assert body["caseWorkflowId"] == case_workflow_id(tenant, alert_id)
    assert_no_names(request.body.decode())

    [line] = udp.messages
    match, extension = parse_cef(line)
    assert (match["pri"], match["signature"], match["severity"]) == ("34", "interdiction", "10")
    assert match["name"] == "Transaction interdicted: typology hand@1@1.0.0"
    assert extension["externalId"] == alert_id
    assert extension["cs2"] == evaluated["evaluationId"]
    assert extension["cs3"] == payment.end_to_end_id
    assert extension["cs4"] == "hand@1@1.0.0:400"
    assert_no_names(line)

    # handed off while the case waits for its decision: the hand-off did not wait for it
    case = temporal.get_workflow_handle(case_workflow_id(tenant, alert_id))
    assert (await case.describe()).status == WorkflowExecutionStatus.RUNNING
    decided = await api.post(
        f"/tenants/{tenant}/cases/{alert_id}/decision",
        json={"outcome": "confirmed_fraud", "note": "the SIEM agrees"},
        headers=token(processes, Role.OPERATOR, tenant),
    )
    assert decided.status_code == 202, decided.text
    await confirm(api, processes, tenant, alert_id)  # interdicted: four eyes
    assert await case.result() == "confirmed_fraud"
    assert len(receiver.to("siem")) == 1 and len(udp.messages) == 1


async def test_a_batch_hands_off_at_once_and_a_flaky_receiver_gets_each_alert_once(
    api: httpx.AsyncClient,
    processes: Settings,
    tenant: str,
    receiver: Receiver,
    tcp: SyslogListener,
    pool: Pool,
    valkey: redis.Redis,
    temporal: Client,
) -> None:
    """A busy stream's batch starts its cases with their first task delayed by the service
    level (24 h), unless the tenant hands its alerts off: then at once. The webhook answers
    503, 500, 503 and then 200; the alert is taken once, and a batch evaluated again sends
    nothing more."""
    receiver.script["/hook/flaky"] = [503, 500, 503]
    await configure(
        api,
        processes,
        tenant,
        webhook_url=receiver.url("flaky"),
        webhook_secret=SECRET,
        syslog_host="127.0.0.1",
        syslog_port=tcp.port,
        syslog_transport="tcp",
    )
    alerting = financial_transaction(amount=REPORTABLE, tenant_id=tenant, debtor=DEBTOR)
    quiet = financial_transaction(amount=1_000.0, tenant_id=tenant)
    intake = Intake(pool, HistoryStore(pool, valkey), temporal, processes.task_queue)
    incoming = [
        Incoming(parse_message(m, tenant), json.dumps(m), "kafka")
        for p in (alerting, quiet)
        for m in p
    ]
    receipts = await intake.submit(incoming, micro_batch=True)
    alert_id, quiet_id = msg_id(alerting.pacs002), msg_id(quiet.pacs002)
    [batch_id] = {r.workflow_id for r in receipts if r.msg_id in (alert_id, quiet_id)}
    assert batch_id is not None and batch_id.startswith("evaluation-batch-")
    assert (await temporal.get_workflow_handle(batch_id).result())["evaluated"] == {
        alert_id: "ALRT",
        quiet_id: "NALT",
    }

    # backoff 1 s, 2 s, 4 s between the four tries
    found = await delivered(api, processes, tenant, "webhook", "syslog", timeout=40)
    assert (found["webhook"]["attempts"], found["syslog"]["attempts"]) == (4, 1)
    tries = receiver.to("flaky")
    assert len(tries) == 4
    bodies = [assert_signed(t, now=time.time()) for t in tries]
    assert {b["alertId"] for b in bodies} == {bodies[0]["alertId"]}  # one alert, tried 4 times
    assert bodies[0]["msgId"] == alert_id

    # the same messages through a batch again (a redelivery): no second case, no second send
    await temporal.execute_workflow(
        EvaluateBatchWorkflow.run,
        EvaluationRequest(tenant, [alert_id, quiet_id]),
        id=f"again-{batch_id}",
        task_queue=processes.task_queue,
    )
    await asyncio.sleep(2)
    assert len(receiver.to("flaky")) == 4
    [line] = tcp.messages
    match, extension = parse_cef(line)
    assert (match["signature"], extension["externalId"]) == ("interdiction", alert_id)
    assert_no_names(line)
    case = temporal.get_workflow_handle(case_workflow_id(tenant, alert_id))
    assert (await case.describe()).status == WorkflowExecutionStatus.RUNNING


async def test_a_receiver_that_keeps_failing_holds_up_no_decision_and_is_recorded_failed(
    impatient: Settings,
    tenant: str,
    receiver: Receiver,
    pool: Pool,
    temporal: Client,
) -> None:
    receiver.script["/hook/down"] = [500] * 100
    async with _api(impatient, tenant) as api:
        await configure(
            api, impatient, tenant, webhook_url=receiver.url("down"), webhook_secret=SECRET
        )
        payment = financial_transaction(amount=REPORTABLE, tenant_id=tenant)
        for message in payment:
            await api.post(f"/v1/evaluate/iso20022/{message['TxTp']}", json=message)
        alert_id = msg_id(payment.pacs002)
        await evaluation(api, tenant, alert_id)
        assert await eventually(lambda: _tried(receiver, "down"), timeout=20)
        decided = await api.post(
            f"/tenants/{tenant}/cases/{alert_id}/decision",
            json={"outcome": "false_positive", "note": "school fees"},
            headers=token(impatient, Role.OPERATOR, tenant),
        )
        assert decided.status_code == 202, decided.text
        await confirm(api, impatient, tenant, alert_id)  # interdicted: four eyes

        async def decided_in_db() -> bool:
            async with pool.connection() as conn:
                row = await (
                    await conn.execute(
                        "SELECT status FROM cases WHERE tenant_id = %s AND msg_id = %s",
                        (tenant, alert_id),
                    )
                ).fetchone()
            return row is not None and row["status"] == "decided"

        # the decision is stored while the receiver is still being tried
        assert await eventually(decided_in_db, timeout=5)
        assert (await deliveries(api, impatient, tenant))["webhook"]["status"] == "pending"

        case = temporal.get_workflow_handle(case_workflow_id(tenant, alert_id))
        assert await case.result() == "false_positive"  # once the tries have run out
        webhook = (await deliveries(api, impatient, tenant))["webhook"]
        assert webhook["status"] == "failed"
        assert "not delivered within 8 s" in webhook["last_error"]
        assert "HTTP 500" in webhook["last_error"]
        assert webhook["attempts"] == len(receiver.to("down")) >= 3
        failed = await api.get(
            f"/tenants/{tenant}/alert-handoff/deliveries",
            params={"status": "failed"},
            headers=token(impatient, Role.OPERATOR, tenant),
        )
        assert [d["msg_id"] for d in failed.json()] == [alert_id]


async def _tried(receiver: Receiver, name: str) -> bool:
    return len(receiver.to(name)) >= 1


async def test_receivers_are_checked_and_the_secret_never_shown(
    client: httpx.AsyncClient, stack: Settings, bank: str
) -> None:
    admin, operator = token(stack, Role.ADMIN, bank), token(stack, Role.OPERATOR, bank)
    path = f"/tenants/{bank}/alert-handoff"
    assert (await client.get(path, headers=admin)).status_code == 404
    refused = {
        "https://10.0.0.8/siem": "private",
        "http://siem.bank.example/alerts": "must be https",
        "https://localhost/siem": "local name",
    }
    for url, reason in refused.items():
        answer = await client.put(
            path, json={"webhook_url": url, "webhook_secret": SECRET}, headers=admin
        )
        assert answer.status_code == 422 and reason in answer.text, answer.text
    answer = await client.put(
        path, json={"syslog_host": "169.254.169.254", "syslog_port": 514}, headers=admin
    )
    assert answer.status_code == 422 and "link-local" in answer.text, answer.text
    answer = await client.put(
        path, json={"webhook_url": "https://siem.bank.example/a"}, headers=admin
    )
    assert answer.status_code == 422 and "needs a secret" in answer.text, answer.text
    answer = await client.put(path, json={"webhook_secret": SECRET}, headers=admin)
    assert answer.status_code == 422, answer.text
    short = await client.put(
        path,
        json={"webhook_url": "https://siem.bank.example/a", "webhook_secret": "x" * 8},
        headers=admin,
    )
    assert short.status_code == 422, short.text
    assert (await client.put(path, json={}, headers=operator)).status_code == 403
    other = token(stack, Role.ADMIN, "another-bank")
    assert (await client.get(path, headers=other)).status_code == 403

    stored = await client.put(
        path,
        json={"webhook_url": "https://siem.bank.example/a", "webhook_secret": SECRET},
        headers=admin,
    )
    assert stored.status_code == 200, stored.text
    # the secret is kept when left out; the receivers change
    changed = await client.put(
        path,
        json={
            "webhook_url": "https://siem.bank.example/b",
            "syslog_host": "siem.bank.example",
            "syslog_port": 6514,
            "syslog_transport": "tcp-lf",
        },
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    shown = (await client.get(path, headers=admin)).json()
    assert shown["webhook_url"] == "https://siem.bank.example/b"
    assert (shown["webhook_secret_set"], shown["syslog_transport"]) == (True, "tcp-lf")
    assert SECRET not in json.dumps(shown)
    assert (await client.delete(path, headers=admin)).status_code == 204
    assert (await client.get(path, headers=admin)).status_code == 404
    assert (await client.delete(path, headers=admin)).status_code == 404


async def test_the_secret_is_sealed_in_the_database(
    client: httpx.AsyncClient, stack: Settings, bank: str, pool: Pool
) -> None:
    admin = token(stack, Role.ADMIN, bank)
    stored = await client.put(
        f"/tenants/{bank}/alert-handoff",
        json={"webhook_url": "https://siem.bank.example/a", "webhook_secret": SECRET},
        headers=admin,
    )
    assert stored.status_code == 200, stored.text
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "SELECT webhook_secret FROM alert_handoff WHERE tenant_id = %s", (bank,)
            )
        ).fetchone()
        audit = await (
            await conn.execute(
                "SELECT action, details::text AS details FROM audit_log WHERE tenant_id = %s",
                (bank,),
            )
        ).fetchall()
    assert row is not None and SECRET.encode() not in bytes(row["webhook_secret"])
    assert [a["action"] for a in audit] == ["alert_handoff.configure"]
    assert SECRET not in audit[0]["details"]
