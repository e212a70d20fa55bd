"""Publishing alerts to Kafka: the activities get a publisher, not a producer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaProducer

from core.logs import correlation_headers

AlertPublisher = Callable[[str, bytes, bytes], Awaitable[None]]  # (tenant, key, value)


def kafka_alert_publisher(producer: AIOKafkaProducer, topic: str) -> AlertPublisher:
    async def publish(tenant: str, key: bytes, value: bytes) -> None:
        headers = [("saku-tenant", tenant.encode()), *correlation_headers()]
        await producer.send_and_wait(topic, value, key=key, headers=headers)

    return publish
