"""The bank of `saku simulate`: it answers the guardians' auto top-up requests (the
bank-facing topic) with a top-up event on the top-up topic, its topupId the request's id,
paid into the wallet's virtual account, as a real bank would once the guardian's standing
instruction has debited their account."""

from __future__ import annotations

import asyncio
import contextlib
import json

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
