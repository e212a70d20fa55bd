"""The self-check round trip, both ends: the Kafka handler that starts the workflow, and the
driver that sends a check and waits for its result (used by the API route and `saku up`)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import asdict, dataclass

from aiokafka import AIOKafkaProducer
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.monitoring.offsets import StreamPosition
from api.intake.consumer import Handler, Record, Rejected, decode_json
from core.logs import correlation_headers
from core.selfcheck import SelfCheckRequest, SelfCheckResult, selfcheck_workflow_id
from core.temporal.start import Labels, start_by_key
from workflows.selfcheck import SelfCheckWorkflow

MAX_FIELD = 64


def parse_check(data: dict[str, object]) -> SelfCheckRequest:
    """A check record's fields, bounded: they travel into a workflow's input, which Temporal
    refuses beyond its payload limit (a refused start would be retried for ever)."""
    check_id = data.get("check_id")
    if not isinstance(check_id, str) or not 0 < len(check_id) <= MAX_FIELD:
        raise Rejected(f"check_id (a string of 1-{MAX_FIELD} characters) is required")
    source = data.get("source", "kafka")
    if not isinstance(source, str) or len(source) > MAX_FIELD:
        raise Rejected(f"source must be a string of at most {MAX_FIELD} characters")
    return SelfCheckRequest(check_id=check_id, source=source)


def selfcheck_handler(client: Client, task_queue: str) -> Handler:
    async def handle(records: list[Record], position: StreamPosition) -> list[tuple[Record, str]]:
        # self-checks keep nothing in PostgreSQL: Kafka's committed offsets are the only ones
        del position
        rejected = []
        for record in records:
            try:
                await start(record)
            except Rejected as rejection:
                rejected.append((record, str(rejection)))
        return rejected

    async def start(record: Record) -> None:
        request = parse_check(decode_json(record))
        # a redelivery finds the workflow already started by the first delivery
        await start_by_key(
            client,
            SelfCheckWorkflow.run,
            request,
            id=selfcheck_workflow_id(request.check_id),
            task_queue=task_queue,
            labels=Labels(None, "selfcheck"),
        )

    return handle


@dataclass
class SelfCheckReport:
    check_id: str
    ok: bool
    seconds: float
    result: SelfCheckResult | None
    problem: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


async def _await_result(client: Client, check_id: str) -> SelfCheckResult:
    handle = client.get_workflow_handle_for(SelfCheckWorkflow.run, selfcheck_workflow_id(check_id))
    while True:
        try:
            return await handle.result()
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
        await asyncio.sleep(0.05)  # the consumer has not started the workflow yet


async def run_selfcheck(
    producer: AIOKafkaProducer, client: Client, topic: str, *, source: str, timeout: float = 20.0
) -> SelfCheckReport:
    """Send a check through Kafka and wait for the workflow the consumer starts to finish."""
    check_id = uuid.uuid4().hex
    started = time.perf_counter()
    payload = json.dumps({"check_id": check_id, "source": source}).encode()
    await producer.send_and_wait(
        topic, payload, key=check_id.encode(), headers=correlation_headers()
    )
    try:
        result = await asyncio.wait_for(_await_result(client, check_id), timeout)
    except TimeoutError:
        started_at_all = True
        try:
            await client.get_workflow_handle(selfcheck_workflow_id(check_id)).describe()
        except RPCError:
            started_at_all = False
        problem = (
            "the workflow started but did not finish: is `saku worker` running?"
            if started_at_all
            else "no workflow was started for the check: is `saku consume` running?"
        )
        return SelfCheckReport(check_id, False, time.perf_counter() - started, None, problem)
    ok = result.postgres_row and result.valkey_key
    problem = "" if ok else "the workflow ran but a store did not keep its record"
    return SelfCheckReport(check_id, ok, time.perf_counter() - started, result, problem)
