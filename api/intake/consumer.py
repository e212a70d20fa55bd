"""The Kafka intake: a consumer group with manual commits and a dead-letter topic.

An offset is committed only after every record up to it has been durably handed on (a
workflow started in Temporal) or dead-lettered with its reason. The handlers also record
their topic's offsets in PostgreSQL with what they stored (see
activities/monitoring/offsets.py), and on every partition assignment the consumer resumes
from there when the database is behind Kafka: after a point-in-time restore it reads again
what the restore lost. A handler that raises for a
transient reason (Temporal unreachable, say) stops the batch uncommitted: the records are
read again, and handing on is idempotent by workflow id, so nothing is lost or doubled.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TypeAlias

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, ConsumerRecord
from aiokafka.structs import OffsetAndMetadata, TopicPartition

from activities.monitoring import offsets
from activities.monitoring.offsets import StreamPosition
from core.db import Pool
from core.logs import CORRELATION_HEADER, correlation_id

log = logging.getLogger(__name__)

# A dead-letter record carries the original bytes up to this size. A larger original is
# kept in PostgreSQL and the record carries a reference: Kafka's request size limits
# (the producer's and the broker's) would otherwise refuse the dead letter, and a batch
# whose reject cannot be dead-lettered is never committed, so the partition would stall.
INLINE_MAX_BYTES = 256 * 1024
# the most of one original Saku keeps: beyond it, its first bytes and the digest of all
KEEP_MAX_BYTES = 16 * 1024 * 1024
# reasons may quote the input; a header stays small
REASON_MAX_CHARS = 1000


def record_size(record: Record) -> int:
    return len(record.key or b"") + len(record.value or b"")


def record_correlation_id(record: Record) -> str:
    """The record's own correlation id, or its coordinates when it carries none."""
    return _header(record, CORRELATION_HEADER) or (
        f"kafka:{record.topic}:{record.partition}:{record.offset}"
    )


def _header(record: Record, name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name and value:
            text = value.decode(errors="replace")
            return text if len(text) <= 64 and text.isprintable() else None
    return None


class Rejected(Exception):
    """The record can never be accepted (malformed, invalid): it goes to the dead-letter topic."""


Record: TypeAlias = "ConsumerRecord[bytes, bytes]"
# A handler takes one topic's records from a poll and hands them on durably; it returns the
# records it rejects, with reasons, for the dead-letter topic. Raising means "transient
# failure": nothing is committed and the records are read again. The position is where the
# topic's partitions will stand once the poll is handed on: a handler that stores in
# PostgreSQL records it there (in the transaction that stores, or right after the durable
# step); a handler that keeps nothing in PostgreSQL may ignore it.
Handler = Callable[[list[Record], StreamPosition], Awaitable[list[tuple[Record, str]]]]


@dataclass
class DeadLetter:
    topic: str
    producer: AIOKafkaProducer
    pool: Pool

    async def send(self, record: Record, reason: str) -> None:
        reason = reason if len(reason) <= REASON_MAX_CHARS else reason[:REASON_MAX_CHARS] + "…"
        headers = [
            ("saku-reason", reason.encode()),
            ("saku-source-topic", record.topic.encode()),
            ("saku-source-partition", str(record.partition).encode()),
            ("saku-source-offset", str(record.offset).encode()),
        ]
        key, value = record.key, record.value
        if record_size(record) > INLINE_MAX_BYTES:
            reference = await self._keep(record, reason)
            original = record.value or b""
            headers += [
                ("saku-original", reference.encode()),
                ("saku-original-size", str(len(original)).encode()),
                ("saku-original-sha256", hashlib.sha256(original).hexdigest().encode()),
            ]
            # the record says where the original is (Kafka needs a key or a value)
            key = None
            value = orjson.dumps({"original": reference, "size": len(original), "reason": reason})
        # otherwise the original bytes, untouched, so the record can be repaired and replayed
        await self.producer.send_and_wait(self.topic, value=value, key=key, headers=headers)

    async def _keep(self, record: Record, reason: str) -> str:
        """Keep a large original in PostgreSQL (once per source offset); its reference."""
        value = record.value or b""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                """INSERT INTO dead_letter_originals
                       (source_topic, source_partition, source_offset, reason, record_key,
                        record_value, value_size, value_sha256, truncated)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
                   ON CONFLICT (source_topic, source_partition, source_offset)
                   DO UPDATE SET reason = excluded.reason
                   RETURNING id""",
                (
                    record.topic,
                    record.partition,
                    record.offset,
                    reason,
                    (record.key or b"")[:KEEP_MAX_BYTES] or None,
                    value[:KEEP_MAX_BYTES],
                    len(value),
                    hashlib.sha256(value).hexdigest(),
                    len(value) > KEEP_MAX_BYTES,
                ),
            )
            row = await cur.fetchone()
        assert row is not None
        return f"postgres:dead_letter_originals/{row['id']}"


class LoadMeter:
    """Records per second over the last few seconds (an exponentially weighted average), so
    the consumer and its handlers can tell a busy stream from a quiet one."""

    def __init__(self, busy_from: float, half_life_s: float = 1.0) -> None:
        self.busy_from = busy_from
        self.half_life_s = half_life_s
        self.rate = 0.0
        self._last = time.monotonic()

    def record(self, count: int) -> None:
        now = time.monotonic()
        elapsed = max(now - self._last, 1e-3)
        self._last = now
        weight = 0.5 ** (elapsed / self.half_life_s)
        self.rate = weight * self.rate + (1 - weight) * (count / elapsed)

    @property
    def busy(self) -> bool:
        return self.rate >= self.busy_from


class StreamConsumer:
    """Polls, hands each topic's records to its handler, dead-letters the rejects, commits.

    Under load (see LoadMeter) a poll waits up to `linger_ms` more for records, so batches
    grow with the stream's rate; a quiet stream is handed on at once.
    """

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        handlers: Mapping[str, Handler],
        dead_letter: DeadLetter,
        *,
        group: str,
        max_record_bytes: int,
        max_records: int = 500,
        load: LoadMeter | None = None,
        linger_ms: int = 50,
    ) -> None:
        self.consumer = consumer
        self.handlers = handlers
        self.dead_letter = dead_letter
        self.max_record_bytes = max_record_bytes
        self.max_records = max_records
        self.load = load or LoadMeter(busy_from=float("inf"))
        self.linger_ms = linger_ms
        self.handled = 0
        self.dead_lettered = 0
        self.group = group
        self.pool = dead_letter.pool

    async def _poll(
        self, in_flight: asyncio.Task[None] | None
    ) -> dict[TopicPartition, list[Record]]:
        """The next batch. It keeps growing, up to `max_records`, while the previous batch is
        still being handed on (it could not start before anyway), and on a busy stream until
        the linger is up: one fetch holds only what the broker returned at once, and every
        batch costs a workflow, so a backlog is taken in bigger bites."""
        batch: dict[TopicPartition, list[Record]] = await self.consumer.getmany(
            timeout_ms=200, max_records=self.max_records
        )
        count = sum(len(r) for r in batch.values())
        linger_until = time.monotonic() + self.linger_ms / 1000
        while batch and count < self.max_records:
            if in_flight is not None and not in_flight.done():
                wait_ms = 10
            elif self.load.busy:
                wait_ms = int((linger_until - time.monotonic()) * 1000)
                if wait_ms <= 0:
                    break
            else:
                break
            more = await self.consumer.getmany(
                timeout_ms=wait_ms, max_records=self.max_records - count
            )
            for partition, records in more.items():
                batch.setdefault(partition, []).extend(records)
            count += sum(len(r) for r in more.values())
        self.load.record(count)
        return batch

    async def process_batch(self, batch: Mapping[TopicPartition, list[Record]]) -> None:
        by_topic: dict[str, list[Record]] = {}
        next_offsets: dict[str, dict[int, int]] = {}
        for tp, records in batch.items():
            by_topic.setdefault(tp.topic, []).extend(records)
            next_offsets.setdefault(tp.topic, {})[tp.partition] = records[-1].offset + 1
        for topic, records in by_topic.items():
            position = StreamPosition(self.group, topic, next_offsets[topic])
            # too large to be what any of Saku's topics carries: refused unread
            oversized = [r for r in records if record_size(r) > self.max_record_bytes]
            readable = [r for r in records if record_size(r) <= self.max_record_bytes]
            rejected = [
                (
                    record,
                    f"record of {record_size(record):,} bytes is larger than the "
                    f"{self.max_record_bytes:,} bytes accepted (SAKU_KAFKA_MAX_RECORD_BYTES)",
                )
                for record in oversized
            ]
            if readable:
                correlation_id.set(record_correlation_id(readable[0]))
                rejected += await self.handlers[topic](readable, position)
            for record, reason in rejected:
                await self.dead_letter.send(record, reason)
                self.dead_lettered += 1
                log.warning(
                    "record dead-lettered",
                    extra={
                        "reason": reason[:REASON_MAX_CHARS],
                        "correlation_id": record_correlation_id(record),
                    },
                )
            self.handled += len(records)
        # every record is handed on or dead-lettered: commit past the last of each partition
        await self.consumer.commit(
            {tp: OffsetAndMetadata(records[-1].offset + 1, "") for tp, records in batch.items()}
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Poll the next batch while the previous one is handed on. Batches are still handed
        on one at a time, in order (a status report must find its payment stored first),
        but the poll and its linger do not wait for the database and Temporal."""
        in_flight: asyncio.Task[None] | None = None
        in_flight_batch: Mapping[TopicPartition, list[Record]] = {}
        try:
            while not stop.is_set():
                batch = await self._poll(in_flight)
                if in_flight is not None and (batch or in_flight.done()):
                    handed_on = await self._handed_on(in_flight)
                    in_flight = None
                    if not handed_on:
                        # the polled batch is dropped too: it is read again after the rewind
                        await self._rewind(first_offsets(in_flight_batch, batch))
                        continue
                if batch:
                    in_flight = asyncio.create_task(self.process_batch(batch))
                    in_flight_batch = batch
        finally:
            if in_flight is not None:
                await asyncio.gather(in_flight, return_exceptions=True)

    @staticmethod
    async def _handed_on(task: asyncio.Task[None]) -> bool:
        try:
            await task
        except Exception:
            log.exception("batch failed; re-reading from the last committed offsets")
            return False
        return True

    async def _rewind(self, starts: Mapping[TopicPartition, int]) -> None:
        """Seek back to where the failed batch began: everything before it is handed on.
        (Not to Kafka's committed offset: after a restore that is ahead of what this
        database holds, and the database may be what failed.)"""
        assigned = self.consumer.assignment()
        # a partition taken away by a rebalance is read again by its new owner
        for partition, offset in starts.items():
            if partition in assigned:
                self.consumer.seek(partition, offset)
        await asyncio.sleep(1.0)


def first_offsets(
    *batches: Mapping[TopicPartition, list[Record]],
) -> dict[TopicPartition, int]:
    """The first offset of each partition in these consecutive batches."""
    starts: dict[TopicPartition, int] = {}
    for batch in batches:
        for partition, records in batch.items():
            if records:
                starts.setdefault(partition, records[0].offset)
    return starts


async def behind_kafka(
    consumer: AIOKafkaConsumer, pool: Pool, group: str, partitions: Collection[TopicPartition]
) -> dict[TopicPartition, int]:
    """The partitions whose offset recorded in PostgreSQL is behind Kafka's committed one
    (or Kafka has none), with that offset: after a restore, what came after the restore
    point is read again from there (intake is idempotent). Elsewhere Kafka's committed
    offset stands: it is never ahead of the database's while Saku runs.

    A partition with no offset in PostgreSQL gets Kafka's (or the start of the partition)
    recorded first: from its first assignment on, every partition has one there, so a
    restore to before a partition's first record still reads that record again."""
    keys = {p: (p.topic, p.partition) for p in partitions}
    in_database = await offsets.stored(pool, group, keys.values())
    committed = {p: await consumer.committed(p) for p in partitions}
    await offsets.adopt(
        pool, group, {keys[p]: committed[p] or 0 for p in partitions if keys[p] not in in_database}
    )
    behind = {}
    for partition in partitions:
        stored = in_database.get(keys[partition])
        kafka = committed[partition]
        if stored is not None and (kafka is None or stored < kafka):
            behind[partition] = stored
    return behind


class ResumeFromDatabase(ConsumerRebalanceListener):  # type: ignore[misc]
    """On every assignment (the first one at start too), seek each partition of the topics
    whose offsets are kept in PostgreSQL back to the database's offset where it is behind
    Kafka's (see `behind_kafka`)."""

    def __init__(
        self, consumer: AIOKafkaConsumer, pool: Pool, group: str, topics: Collection[str]
    ) -> None:
        self.consumer = consumer
        self.pool = pool
        self.group = group
        self.topics = set(topics)

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        pass

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        kept = [p for p in assigned if p.topic in self.topics]
        behind = await behind_kafka(self.consumer, self.pool, self.group, kept)
        for partition, offset in behind.items():
            log.info(
                "reading again from the offset recorded in PostgreSQL",
                extra={
                    "topic": partition.topic,
                    "partition": partition.partition,
                    "offset": offset,
                },
            )
            self.consumer.seek(partition, offset)


def decode_json(record: Record) -> dict[str, object]:
    """The record's value as a JSON object, or Rejected with the reason."""
    if record.value is None:
        raise Rejected("empty message (no value)")
    if b"\\u0000" in record.value:
        # valid JSON, but PostgreSQL cannot store a NUL character in jsonb
        raise Rejected("the JSON contains a NUL character (\\u0000), which cannot be stored")
    try:
        # UTF-8 only (RFC 8259), and strict: NaN and Infinity are not JSON
        data = orjson.loads(record.value)
    except orjson.JSONDecodeError as err:
        raise Rejected(f"malformed JSON: {err}") from err
    if not isinstance(data, dict):
        raise Rejected(f"expected a JSON object, got {type(data).__name__}")
    return data
