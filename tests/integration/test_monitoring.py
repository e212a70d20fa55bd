"""The monitoring engine end to end: HTTP and Kafka intake -> workflows -> decisions.

The configuration is small enough to compute every score by hand:
  typology "hand@1" = v001 + v091, alert at 200, interdiction at 350
  rule 001 (creditor account age): .01 (< 1 day) weighs 100, every other outcome 0
  rule 091 (amount vs IDR 500,000,000): .04 (at or above) weighs 300, every other outcome 0
so a payment to a new account scores 100 (NALT), and a reportable payment to a new account
scores 400 (ALRT, interdicted).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from fastapi import FastAPI
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus

from activities.cases import CaseActivities
from activities.monitoring.config_store import ConfigStore, import_bundle
from activities.monitoring.evaluate import EvaluationActivities
from activities.monitoring.history import HistoryStore, Incoming
from activities.monitoring.pipeline import MonitoringPipeline
from activities.monitoring.rules.catalogue import RULES
from api.app import create_app
from api.intake.messages import parse_message
from api.intake.service import Intake
from core import topics
from core.cases import CaseConfirmation, CaseDecision, case_workflow_id
from core.db import Pool
from core.monitoring.transactions import TxType
from core.monitoring.types import EvaluationRequest
from core.security import Principal, Role, issue_token
from core.settings import Settings
from core.temporal.worker import create_worker
from saku.iso20022_samples import end_to_end_id, financial_transaction, pacs002, pacs008
from tests.stackutil import eventually
from workflows.cases import CaseWorkflow
from workflows.evaluation import EvaluateBatchWorkflow

pytestmark = pytest.mark.integration

SMALL = 100_000.0
REPORTABLE = 600_000_000.0


def bundle(cfg: str, alert: float = 200, interdict: float = 350) -> dict[str, Any]:
    def weights(code: str, risky: dict[str, float]) -> list[dict[str, Any]]:
        config = RULES[code].default_config
        return [
            {"ref": ref, "wght": risky.get(ref, 0)} for ref in sorted(config.possible_outcomes())
        ]

    rule_ids = [RULES[c].default_config for c in ("001", "091")]
    return {
        "rules": [r.model_dump(mode="json", by_alias=True) for r in rule_ids],
        "typologies": [
            {
                "id": "hand@1",
                "cfg": cfg,
                "rules": [
                    {
                        "id": "001@1.0.0",
                        "cfg": "1.0.0",
                        "termId": "v001",
                        "wghts": weights("001", {".01": 100}),
                    },
                    {
                        "id": "091@1.0.0",
                        "cfg": "1.0.0",
                        "termId": "v091",
                        "wghts": weights("091", {".04": 300}),
                    },
                ],
                "expression": {"operator": "Add", "terms": ["v001", "v091"]},
                "workflow": {"alertThreshold": alert, "interdictionThreshold": interdict},
            }
        ],
        "networkMaps": [
            {
                "cfg": cfg,
                "messages": [
                    {
                        "id": "004@1.0.0",
                        "cfg": "1.0.0",
                        "txTp": TxType.PACS_002,
                        "typologies": [
                            {
                                "id": "hand@1",
                                "cfg": cfg,
                                "rules": [{"id": r.id, "cfg": r.cfg} for r in rule_ids],
                            }
                        ],
                    }
                ],
            }
        ],
        "activate": cfg,
    }


@pytest.fixture
async def tenant(pool: Pool, bank: str) -> str:
    await import_bundle(ConfigStore(pool), bank, bundle("1.0.0"))
    return bank


@pytest.fixture
async def client(processes: Settings, tenant: str) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(processes)
    token = issue_token(
        Principal("core-banking", Role.INTEGRATION, tenant),
        secret=processes.resolved_jwt_secret(),
        issuer=processes.jwt_issuer,
        ttl_seconds=600,
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://saku.test",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        ) as http:
            yield http


async def post(client: httpx.AsyncClient, message: dict[str, Any]) -> httpx.Response:
    return await client.post(f"/v1/evaluate/iso20022/{message['TxTp']}", json=message)


async def evaluation(client: httpx.AsyncClient, tenant: str, msg_id: str) -> dict[str, Any]:
    """Poll the lookup until the evaluation is persisted."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = await client.get(f"/tenants/{tenant}/evaluations/{msg_id}")
        if response.status_code == 200:
            return response.json()  # type: ignore[no-any-return]
        assert response.status_code == 404, response.text
        await asyncio.sleep(0.1)
    raise AssertionError(f"message {msg_id} was not evaluated in 30 s")


def msg_id(message: dict[str, Any]) -> str:
    body = next(v for k, v in message.items() if k not in ("TxTp", "TenantId"))
    return str(body["GrpHdr"]["MsgId"])


def score(result: dict[str, Any]) -> float:
    [typology] = result["result"]["adjudication"]["typologies"]
    return float(typology["score"])


async def produce(settings: Settings, *messages: dict[str, Any] | bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.resolved_kafka_bootstrap())
    await producer.start()
    try:
        for message in messages:
            if isinstance(message, bytes):
                value, key = message, None
            else:  # keyed by payment, as a bank must: its messages then arrive in order
                value, key = json.dumps(message).encode(), end_to_end_id(message).encode()
            await producer.send_and_wait(settings.topic(topics.TRANSACTIONS.name), value, key=key)
    finally:
        await producer.stop()


async def read_topic(settings: Settings, name: str, count: int) -> list[Any]:
    consumer = AIOKafkaConsumer(
        settings.topic(name),
        bootstrap_servers=settings.resolved_kafka_bootstrap(),
        auto_offset_reset="earliest",
        group_id=f"reader-{uuid.uuid4().hex[:8]}",
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = time.monotonic() + 30
        while len(records) < count and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            records += [r for rs in batch.values() for r in rs]
    finally:
        await consumer.stop()
    return records


async def test_a_payment_through_the_api_gets_the_hand_computed_decision(
    client: httpx.AsyncClient, tenant: str
) -> None:
    payment = financial_transaction(amount=SMALL, tenant_id=tenant)
    for message in payment:
        response = await post(client, message)
        assert response.status_code == 202, response.text
    receipt = (await post(client, payment.pacs002)).json()  # a second delivery
    assert receipt["outcome"] == "duplicate"

    result = await evaluation(client, tenant, msg_id(payment.pacs002))
    assert result["status"] == "NALT" and not result["interdicted"]
    assert score(result) == 100
    refs = {r["id"]: r["sub_rule_ref"] for r in result["result"]["rule_results"]}
    assert refs == {"001@1.0.0": ".01", "091@1.0.0": ".01"}
    assert result["networkMapCfg"] == "1.0.0"
    assert result["result"]["route"]["typologies"][0]["cfg"] == "1.0.0"  # the sub-map used
    assert result["workflowId"] == receipt["evaluationWorkflowId"] and result["runId"]
    assert set(result["result"]["timings_ms"]) >= {"features_ms", "rules_ms"}

    by_e2e = await client.get(
        f"/tenants/{tenant}/evaluations", params={"endToEndId": payment.end_to_end_id}
    )
    assert [e["msgId"] for e in by_e2e.json()] == [msg_id(payment.pacs002)]


async def test_a_payment_through_kafka_alerts_and_interdicts(
    client: httpx.AsyncClient, processes: Settings, tenant: str
) -> None:
    payment = financial_transaction(amount=REPORTABLE, tenant_id=tenant)
    await produce(processes, *payment, payment.pacs002)  # the pacs.002 delivered twice

    result = await evaluation(client, tenant, msg_id(payment.pacs002))
    assert result["status"] == "ALRT" and result["interdicted"]
    assert score(result) == 400
    [alert] = await read_topic(processes, topics.ALERTS.name, 1)
    body = json.loads(alert.value)
    assert body["msgId"] == msg_id(payment.pacs002) and body["interdicted"] is True

    # the same message again through the other channel changes nothing
    receipt = (await post(client, payment.pacs002)).json()
    assert receipt["outcome"] == "duplicate"
    assert receipt["evaluationWorkflowId"] == result["workflowId"]
    by_e2e = await client.get(
        f"/tenants/{tenant}/evaluations", params={"endToEndId": payment.end_to_end_id}
    )
    assert len(by_e2e.json()) == 1


def reason_of(response: httpx.Response) -> str:
    """The reason of a 4xx, in the one error schema: a 422 lists its problems, any other
    4xx gives a reason in words."""
    detail = response.json()["detail"]
    if response.status_code == 422:
        assert isinstance(detail, list) and detail, detail
        return "; ".join(problem["msg"] for problem in detail)
    assert isinstance(detail, str), detail
    return detail


@pytest.mark.parametrize(
    ("body", "code", "reason"),
    [
        (b"{not json", 400, "malformed JSON"),
        (json.dumps(pacs008()).encode("utf-16"), 400, "malformed JSON"),
        (json.dumps({"TxTp": TxType.PACS_008, "FIToFICstmrCdtTrf": {}}).encode(), 422, "GrpHdr"),
        (json.dumps({"TxTp": "pacs.009.001.08"}).encode(), 422, "does not match this endpoint"),
    ],
)
async def test_bad_input_over_http_is_refused_with_a_reason(
    client: httpx.AsyncClient, body: bytes, code: int, reason: str
) -> None:
    response = await client.post(
        f"/v1/evaluate/iso20022/{TxType.PACS_008}",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == code, response.text
    assert reason in reason_of(response)


async def test_a_message_for_another_tenant_is_refused(
    client: httpx.AsyncClient, tenant: str
) -> None:
    response = await post(client, pacs008(tenant_id="someone-else"))
    assert response.status_code == 403
    assert "does not match" in response.json()["detail"]


async def test_a_status_report_without_its_payment_is_refused(client: httpx.AsyncClient) -> None:
    response = await post(client, pacs002(e2e_id="never-sent"))
    assert response.status_code == 422
    assert "no pacs.008" in reason_of(response)


async def test_bad_records_on_kafka_are_dead_lettered_and_the_stream_carries_on(
    client: httpx.AsyncClient, processes: Settings, tenant: str, caplog: pytest.LogCaptureFixture
) -> None:
    good = financial_transaction(amount=SMALL, tenant_id=tenant)
    bad: list[tuple[bytes, str]] = [
        (b"\xff{not json", "malformed JSON"),
        (json.dumps(pacs008(tenant_id=tenant)).encode("utf-16"), "malformed JSON"),  # not UTF-8
        (json.dumps(pacs008(amount=1e16, tenant_id=tenant)).encode(), "InstdAmt"),
        (json.dumps({**pacs008(tenant_id=tenant), "FIToFICstmrCdtTrf": {}}).encode(), "GrpHdr"),
        (json.dumps({**pacs008(tenant_id=tenant), "TxTp": "pacs.009.001.08"}).encode(), "TxTp"),
        (json.dumps(pacs008(tenant_id="no-such-bank")).encode(), "unknown tenant"),
    ]
    await produce(processes, *(b for b, _ in bad), *good)

    result = await evaluation(client, tenant, msg_id(good.pacs002))
    assert result["status"] == "NALT"  # the valid messages after the bad ones were evaluated
    letters = await read_topic(processes, topics.DEAD_LETTER.name, len(bad))
    # the original bytes of each (partitions interleave, so in any order)
    assert sorted(r.value for r in letters) == sorted(b for b, _ in bad)
    reasons = dict(bad)
    for record in letters:
        headers = dict(record.headers)
        reason = reasons[record.value]
        assert reason in headers["saku-reason"].decode(), headers["saku-reason"]
        assert headers["saku-source-topic"].decode() == processes.topic(topics.TRANSACTIONS.name)
    # each dead letter's log line names its own record, not the first of its batch
    logged = {
        getattr(r, "correlation_id", None)
        for r in caplog.records
        if r.getMessage() == "record dead-lettered"
    }
    sources = [
        [
            dict(r.headers)[f"saku-source-{part}"].decode()
            for part in ("topic", "partition", "offset")
        ]
        for r in letters
    ]
    assert logged == {"kafka:" + ":".join(source) for source in sources}


async def committed_offsets(settings: Settings, topic: str) -> dict[int, int]:
    """The consumer group's committed offset of each partition of `topic`."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.resolved_kafka_bootstrap(),
        group_id=settings.consumer_group,
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        offsets = {p: await consumer.committed(TopicPartition(topic, p)) for p in partitions}
    finally:
        await consumer.stop()
    return {p: offset for p, offset in offsets.items() if offset is not None}


async def end_offsets(settings: Settings, topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.resolved_kafka_bootstrap())
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return {tp.partition: offset for tp, offset in ends.items() if offset > 0}


async def test_an_oversized_bad_record_is_dead_lettered_by_reference_and_no_partition_stalls(
    client: httpx.AsyncClient, processes: Settings, tenant: str, pool: Pool
) -> None:
    huge_topup = json.dumps(
        {
            "topupId": "t-huge",
            "tenantId": tenant,
            "studentId": "s-1",
            "amount": "1000",
            "payerAccount": "acct-1",
            "payerName": "x" * 5_000_000,
        }
    ).encode()
    garbage = b"\xff" * 3_000_000
    # under the size bound, so the handler reads it, but too big to travel on as it is
    broken = b"{" + b" " * 600_000
    producer = AIOKafkaProducer(
        bootstrap_servers=processes.resolved_kafka_bootstrap(), max_request_size=8_000_000
    )
    await producer.start()
    try:
        await producer.send_and_wait(processes.topic(topics.TOPUPS.name), huge_topup)
        for partition in range(topics.TRANSACTIONS.partitions):  # in a batch with every one
            await producer.send_and_wait(
                processes.topic(topics.TRANSACTIONS.name), garbage, partition=partition
            )
        await producer.send_and_wait(processes.topic(topics.TRANSACTIONS.name), broken)
    finally:
        await producer.stop()
    good = financial_transaction(amount=SMALL, tenant_id=tenant)
    await produce(processes, *good)

    result = await evaluation(client, tenant, msg_id(good.pacs002))
    assert result["status"] == "NALT"
    letters = await read_topic(
        processes, topics.DEAD_LETTER.name, 2 + topics.TRANSACTIONS.partitions
    )
    originals = {len(huge_topup): huge_topup, len(garbage): garbage, len(broken): broken}
    for letter in letters:
        headers = {k: v.decode() for k, v in letter.headers}
        kind, _, row_id = headers["saku-original"].partition("/")
        # a large original travels by reference, not as it is
        assert json.loads(letter.value)["original"] == headers["saku-original"]
        assert kind == "postgres:dead_letter_originals"
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT * FROM dead_letter_originals WHERE id = %s", (int(row_id),)
            )
            row = await cur.fetchone()
        assert row is not None
        original = originals[int(headers["saku-original-size"])]
        assert bytes(row["record_value"]) == original and not row["truncated"]
        assert row["value_sha256"] == headers["saku-original-sha256"]
        assert row["reason"] == headers["saku-reason"]
        if len(original) > processes.kafka_max_record_bytes:
            assert "larger than the" in headers["saku-reason"]
        else:
            assert "malformed JSON" in headers["saku-reason"]
    # every partition's committed offset reaches its end: nothing is read again forever
    for topic in (topics.TRANSACTIONS.name, topics.TOPUPS.name):

        async def caught_up(name: str = processes.topic(topic)) -> bool:
            return await committed_offsets(processes, name) == await end_offsets(processes, name)

        await eventually(caught_up, timeout=30)


async def test_a_message_id_resent_with_other_content_is_refused_on_both_channels(
    client: httpx.AsyncClient, processes: Settings, tenant: str
) -> None:
    payment = financial_transaction(amount=SMALL, tenant_id=tenant)
    await produce(processes, *payment)
    first = await evaluation(client, tenant, msg_id(payment.pacs002))

    altered = json.loads(json.dumps(payment.pacs008))
    altered["FIToFICstmrCdtTrf"]["CdtTrfTxInf"]["InstdAmt"]["Amt"]["Amt"] = 999.0
    response = await post(client, altered)
    assert response.status_code == 409, response.text
    assert "different content" in response.json()["detail"]
    # the same document again, in another key order and spacing, is a duplicate
    resent = json.dumps(payment.pacs008, indent=2, sort_keys=True).encode()
    again = await client.post(
        f"/v1/evaluate/iso20022/{TxType.PACS_008}",
        content=resent,
        headers={"Content-Type": "application/json"},
    )
    assert again.status_code == 202 and again.json()["outcome"] == "duplicate"

    await produce(processes, altered)
    [letter] = await read_topic(processes, topics.DEAD_LETTER.name, 1)
    assert json.loads(letter.value) == altered
    assert "different content" in dict(letter.headers)["saku-reason"].decode()
    # the first content is what stays stored, and its evaluation stands
    stored = await client.get(f"/tenants/{tenant}/evaluations/{msg_id(payment.pacs002)}")
    assert stored.json()["evaluationId"] == first["evaluationId"]


async def test_activating_a_new_network_map_changes_the_next_evaluations(
    client: httpx.AsyncClient, pool: Pool, tenant: str
) -> None:
    first = financial_transaction(amount=SMALL, tenant_id=tenant)
    for message in first:
        await post(client, message)
    before = await evaluation(client, tenant, msg_id(first.pacs002))
    assert before["status"] == "NALT"

    # the same rules, a stricter typology: 100 now breaches an alert threshold of 50
    await import_bundle(ConfigStore(pool), tenant, bundle("2.0.0", alert=50, interdict=350))
    second = financial_transaction(amount=SMALL, tenant_id=tenant)
    for message in second:
        await post(client, message)
    after = await evaluation(client, tenant, msg_id(second.pacs002))
    assert after["status"] == "ALRT" and score(after) == 100
    assert after["networkMapCfg"] == "2.0.0"
    assert after["result"]["route"]["typologies"][0]["cfg"] == "2.0.0"
    # the earlier evaluation keeps the versions it used
    again = await evaluation(client, tenant, msg_id(first.pacs002))
    assert again["networkMapCfg"] == "1.0.0"


# Every alert opens a case, in a workflow of its own; an operator decides it through the API,
# a supervisor confirms the decision when the transaction was interdicted (four-eyes), and
# the decision is recorded, audited and final.


def operator(settings: Settings, tenant_id: str, who: str = "operator-rina") -> dict[str, str]:
    token = issue_token(
        Principal(who, Role.OPERATOR, tenant_id),
        secret=settings.resolved_jwt_secret(),
        issuer=settings.jwt_issuer,
        ttl_seconds=300,
    )
    return {"Authorization": f"Bearer {token}"}


def supervisor(settings: Settings, tenant_id: str, who: str = "supervisor-sari") -> dict[str, str]:
    token = issue_token(
        Principal(who, Role.SUPERVISOR, tenant_id),
        secret=settings.resolved_jwt_secret(),
        issuer=settings.jwt_issuer,
        ttl_seconds=300,
    )
    return {"Authorization": f"Bearer {token}"}


async def confirm_when_awaited(
    client: httpx.AsyncClient, settings: Settings, tenant: str, msg_id: str
) -> None:
    """The supervisor's half of four-eyes, once the operator's decision is recorded."""

    async def awaiting() -> bool:
        listed = await client.get(
            f"/tenants/{tenant}/cases",
            params={"status": "awaiting_confirmation"},
            headers=operator(settings, tenant),
        )
        return msg_id in [c["msg_id"] for c in listed.json()]

    assert await eventually(awaiting, timeout=20)
    confirmed = await client.post(
        f"/tenants/{tenant}/cases/{msg_id}/confirmation",
        json={"note": "agreed: the evidence holds"},
        headers=supervisor(settings, tenant),
    )
    assert confirmed.status_code == 202, confirmed.text


async def test_an_alert_opens_a_case_an_operator_decides(
    client: httpx.AsyncClient,
    processes: Settings,
    tenant: str,
    pool: Pool,
    temporal: Client,
) -> None:
    payment = financial_transaction(amount=REPORTABLE, tenant_id=tenant)
    for message in payment:
        assert (await post(client, message)).status_code == 202
    alert_id = msg_id(payment.pacs002)
    assert (await evaluation(client, tenant, alert_id))["status"] == "ALRT"
    quiet = financial_transaction(amount=1_000.0, tenant_id=tenant)
    for message in quiet:
        await post(client, message)
    assert (await evaluation(client, tenant, msg_id(quiet.pacs002)))["status"] == "NALT"
    staff = operator(processes, tenant)

    async def opened() -> bool:
        listed = await client.get(
            f"/tenants/{tenant}/cases", params={"status": "open"}, headers=staff
        )
        return [c["msg_id"] for c in listed.json()] == [alert_id]  # no case for the quiet one

    await eventually(opened, timeout=20)
    decided = await client.post(
        f"/tenants/{tenant}/cases/{alert_id}/decision",
        json={"outcome": "confirmed_fraud", "note": "mule account, reported to the bank"},
        headers=staff,
    )
    assert decided.status_code == 202, decided.text
    # the payment was interdicted (score 400 >= 350): a supervisor confirms the decision
    await confirm_when_awaited(client, processes, tenant, alert_id)
    result = await temporal.get_workflow_handle(case_workflow_id(tenant, alert_id)).result()
    assert result == "confirmed_fraud"
    [case] = (await client.get(f"/tenants/{tenant}/cases", headers=staff)).json()
    assert (case["status"], case["outcome"], case["decided_by"], case["confirmed_by"]) == (
        "decided",
        "confirmed_fraud",
        "operator-rina",
        "supervisor-sari",
    )
    again = await client.post(
        f"/tenants/{tenant}/cases/{alert_id}/decision",
        json={"outcome": "false_positive", "note": "changed my mind"},
        headers=staff,
    )
    assert again.status_code == 409
    async with pool.connection() as conn:
        audit = await (
            await conn.execute(
                "SELECT actor, reason FROM audit_log WHERE tenant_id = %s AND action = "
                "'case.decide'",
                (tenant,),
            )
        ).fetchall()
    assert [(a["actor"], a["reason"]) for a in audit] == [
        ("operator-rina", "mule account, reported to the bank")
    ]


async def test_a_micro_batch_opens_each_alerts_case_once(
    client: httpx.AsyncClient,
    processes: Settings,
    tenant: str,
    pool: Pool,
    valkey: redis.Redis,
    temporal: Client,
) -> None:
    """A busy stream's batches open their alerts' cases themselves (rows and workflows, from
    the stored decisions); a batch evaluated again opens no second case."""
    alerting = financial_transaction(amount=REPORTABLE, tenant_id=tenant)
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
    batch = await temporal.get_workflow_handle(batch_id).result()
    assert batch["evaluated"] == {alert_id: "ALRT", quiet_id: "NALT"}
    # the same messages through a batch again (a redelivery in another batch, say)
    await temporal.execute_workflow(
        EvaluateBatchWorkflow.run,
        EvaluationRequest(tenant, [alert_id, quiet_id]),
        id=f"again-{batch_id}",
        task_queue=processes.task_queue,
    )

    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT msg_id, status, workflow_id FROM cases WHERE tenant_id = %s", (tenant,)
        )
        cases = [tuple(r.values()) for r in await cur.fetchall()]
    assert cases == [(alert_id, "open", case_workflow_id(tenant, alert_id))]
    case = temporal.get_workflow_handle(case_workflow_id(tenant, alert_id))
    assert (await case.describe()).status == WorkflowExecutionStatus.RUNNING
    decided = await client.post(
        f"/tenants/{tenant}/cases/{alert_id}/decision",
        json={"outcome": "false_positive", "note": "the parents' school fees"},
        headers=operator(processes, tenant),
    )
    assert decided.status_code == 202, decided.text
    await confirm_when_awaited(client, processes, tenant, alert_id)  # it was interdicted
    assert await case.result() == "false_positive"


async def test_a_case_nobody_decides_is_escalated_at_its_service_level(
    stack: Settings,
    task_queue: str,
    tenant: str,
    pool: Pool,
    valkey: redis.Redis,
    temporal: Client,
) -> None:
    """A batch starts its alerts' cases with their first task delayed by the service level:
    nothing runs for a case until an operator decides it or the service level passes, and
    then the case is escalated and still takes its decision."""
    cases = CaseActivities(pool, service_level=timedelta(seconds=3))

    async def publish(tenant_id: str, key: bytes, value: bytes) -> None:
        return None  # alerts are not what this test is about

    history = HistoryStore(pool, valkey)
    evaluation = EvaluationActivities(MonitoringPipeline(pool, history, publish), cases)
    worker = create_worker(
        temporal,
        task_queue,
        [EvaluateBatchWorkflow, CaseWorkflow],
        [
            evaluation.evaluate_batch,
            cases.escalate,
            cases.decide,
            cases.record_decision,
            cases.escalate_confirmation,
            cases.confirm,
        ],
    )
    alerting = financial_transaction(amount=REPORTABLE, tenant_id=tenant)
    quiet = financial_transaction(amount=1_000.0, tenant_id=tenant)  # two triggers: a batch
    incoming = [
        Incoming(parse_message(m, tenant), json.dumps(m), "kafka")
        for p in (alerting, quiet)
        for m in p
    ]
    alert_id, quiet_id = msg_id(alerting.pacs002), msg_id(quiet.pacs002)

    async def case_status() -> tuple[str, bool]:  # (status, escalated)
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT status, escalated_at IS NOT NULL AS escalated FROM cases "
                "WHERE tenant_id = %s AND msg_id = %s",
                (tenant, alert_id),
            )
            row = await cur.fetchone()
        assert row is not None, "the alert opened no case"
        return str(row["status"]), bool(row["escalated"])

    async def searched_as(status: str) -> bool:  # the case's SakuStatus, as operators see it
        query = f'SakuTenant = "{tenant}" AND SakuKind = "case" AND SakuStatus = "{status}"'
        return [w.id async for w in temporal.list_workflows(query)] == [
            case_workflow_id(tenant, alert_id)
        ]

    async with worker:
        receipts = await Intake(pool, history, temporal, task_queue).submit(
            incoming, micro_batch=True
        )
        [batch_id] = {r.workflow_id for r in receipts if r.msg_id == alert_id}
        assert batch_id is not None
        batch = await temporal.get_workflow_handle(batch_id).result()
        assert batch["evaluated"] == {alert_id: "ALRT", quiet_id: "NALT"}
        assert await case_status() == ("open", False)
        case = temporal.get_workflow_handle(case_workflow_id(tenant, alert_id))
        events = [e.event_type async for e in case.fetch_history_events()]
        assert events == [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED]  # no task yet

        async def escalated() -> bool:
            return await case_status() == ("escalated", True)

        assert await eventually(escalated, timeout=30)
        assert (await case.describe()).status == WorkflowExecutionStatus.RUNNING
        assert await eventually(lambda: searched_as("escalated"), timeout=20)
        await case.signal(
            CaseWorkflow.decide, CaseDecision("confirmed_fraud", "operator-rina", "late, but sure")
        )

        # the payment was interdicted: the decision waits for a supervisor, and a
        # confirmation that does not come within the service level is escalated too
        async def escalations() -> list[str]:
            async with pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT note FROM case_events WHERE tenant_id = %s AND msg_id = %s "
                    "AND action = 'escalated' ORDER BY id",
                    (tenant, alert_id),
                )
                return [row["note"] for row in await cur.fetchall()]

        async def confirmation_escalated() -> bool:
            return len(await escalations()) == 2

        assert await eventually(confirmation_escalated, timeout=30)
        assert "no supervisor confirmed" in (await escalations())[1]
        assert await case_status() == ("awaiting_confirmation", True)
        assert await eventually(lambda: searched_as("awaiting_confirmation"), timeout=20)
        # the decider's own confirmation counts for nothing; a second person's closes it
        await case.signal(CaseWorkflow.confirm, CaseConfirmation("operator-rina", "mine"))
        await case.signal(CaseWorkflow.confirm, CaseConfirmation("supervisor-sari", "agreed"))
        assert await case.result() == "confirmed_fraud"
        assert await eventually(lambda: searched_as("confirmed_fraud"), timeout=20)
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT confirmed_by FROM cases WHERE tenant_id = %s AND msg_id = %s",
                (tenant, alert_id),
            )
            assert (await cur.fetchone()) == {"confirmed_by": "supervisor-sari"}
    assert await case_status() == ("decided", True)  # the escalation stays on record
