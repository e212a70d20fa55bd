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

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from core import topics
from core.settings import Settings


async def answer_topup_requests(
    settings: Settings, tenant: str, answered: list[str], stop: asyncio.Event
) -> None:
    """Answer every request of `tenant` until `stop` is set; appends each id answered."""
    bootstrap = settings.resolved_kafka_bootstrap()
    consumer = AIOKafkaConsumer(
        settings.topic(topics.TOPUP_REQUESTS.name),
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
                        if request["tenantId"] != tenant or request["requestId"] in answered:
                            continue
                        answer = {
                            "topupId": request["requestId"],
                            "tenantId": tenant,
                            "virtualAccount": request["virtualAccount"],
                            "amount": request["amount"],
                            "payerAccount": request["virtualAccount"],
                            "payerName": "Auto top-up (simulated bank)",
                        }
                        await producer.send_and_wait(
                            settings.topic(topics.TOPUPS.name),
                            json.dumps(answer).encode(),
                            key=str(request["virtualAccount"]).encode(),
                        )
                        answered.append(request["requestId"])
    finally:
        await consumer.stop()
        await producer.stop()


async def answer_payout_requests(
    settings: Settings, tenant: str, paid: list[str], stop: asyncio.Event
) -> None:
    """Pay every payout request of `tenant` until `stop` is set; appends each id paid."""
    bootstrap = settings.resolved_kafka_bootstrap()
    consumer = AIOKafkaConsumer(
        settings.topic(topics.PAYOUTS.name),
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
                        if request["tenantId"] != tenant or request["payoutId"] in paid:
                            continue
                        answer = {
                            "payoutId": request["payoutId"],
                            "tenantId": tenant,
                            "outcome": "paid",
                            "bankReference": f"simbank-{uuid.uuid4().hex[:12]}",
                            "amount": request["amount"],
                        }
                        await producer.send_and_wait(
                            settings.topic(topics.PAYOUT_RESULTS.name),
                            json.dumps(answer).encode(),
                            key=str(request["payoutId"]).encode(),
                        )
                        paid.append(request["payoutId"])
    finally:
        await consumer.stop()
        await producer.stop()
