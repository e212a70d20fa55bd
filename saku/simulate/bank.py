"""The bank of `saku simulate`: it answers the guardians' auto top-up requests (the
bank-facing topic) with a top-up event on the top-up topic, its topupId the request's id,
paid into the wallet's virtual account, as a real bank would once the guardian's standing
instruction has debited their account; and it pays leavers' payout requests (the payouts
topic) to the guardian, answering `paid` on the payout-results topic with a reference of
its own."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from core import topics
from core.settings import Settings

Request = dict[str, Any]
# a request -> (the answer's key, the answer)
Answer = Callable[[Request], tuple[str, Request]]


async def _answer(
    settings: Settings,
    requests: topics.Topic,
    answers: topics.Topic,
    tenant: str,
    id_field: str,
    answer: Answer,
    answered: list[str],
    stop: asyncio.Event,
) -> None:
    """Answer every request of `tenant` on `requests` with `answer` on `answers`, until `stop`
    is set; appends the id (`id_field`) of each request answered. What is not a request of
    the expected shape is passed over, as a bank would."""
    bootstrap = settings.resolved_kafka_bootstrap()
    consumer = AIOKafkaConsumer(
        settings.topic(requests.name),
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await consumer.start()
    await producer.start()
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    with contextlib.suppress(ValueError, KeyError, TypeError):
                        request = json.loads(record.value or b"")
                        if request["tenantId"] != tenant or request[id_field] in answered:
                            continue
                        key, body = answer(request)
                        await producer.send_and_wait(
                            settings.topic(answers.name),
                            json.dumps(body).encode(),
                            key=key.encode(),
                        )
                        answered.append(request[id_field])
    finally:
        await consumer.stop()
        await producer.stop()


def _top_up(request: Request) -> tuple[str, Request]:
    account = str(request["virtualAccount"])
    return account, {
        "topupId": request["requestId"],
        "tenantId": request["tenantId"],
        "virtualAccount": account,
        "amount": request["amount"],
        "payerAccount": account,
        "payerName": "Auto top-up (simulated bank)",
    }


def _pay_out(request: Request) -> tuple[str, Request]:
    return str(request["payoutId"]), {
        "payoutId": request["payoutId"],
        "tenantId": request["tenantId"],
        "outcome": "paid",
        "bankReference": f"simbank-{uuid.uuid4().hex[:12]}",
        "amount": request["amount"],
    }


async def answer_topup_requests(
    settings: Settings, tenant: str, answered: list[str], stop: asyncio.Event
) -> None:
    """Answer every auto top-up request of `tenant` with its top-up, until `stop` is set;
    appends each request id answered."""
    await _answer(
        settings, topics.TOPUP_REQUESTS, topics.TOPUPS, tenant, "requestId", _top_up, answered, stop
    )


async def answer_payout_requests(
    settings: Settings, tenant: str, paid: list[str], stop: asyncio.Event
) -> None:
    """Pay every payout request of `tenant` until `stop` is set; appends each id paid."""
    await _answer(
        settings, topics.PAYOUTS, topics.PAYOUT_RESULTS, tenant, "payoutId", _pay_out, paid, stop
    )
