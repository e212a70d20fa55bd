"""The Kafka consumer's offsets, kept in PostgreSQL with what the consumer stored.

An offset is recorded in the same database transaction as the history of the records before
it (or, for a topic whose durable step is elsewhere, right after that step), so the database
knows how far its own contents go. After a point-in-time restore the restored offsets are
older than Kafka's, and the consumer reads again from them: intake is idempotent by message
id, so what the restore kept is found stored and what it lost is stored again.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import orjson
from psycopg import AsyncConnection
from psycopg.rows import DictRow

from core.db import Pool


@dataclass(frozen=True)
class StreamPosition:
    """How far one consumer group got in one topic: the next offset of each partition."""

    group: str
    topic: str
    next_offsets: Mapping[int, int]  # partition -> first offset not yet handed on


async def record(conn: AsyncConnection[DictRow], position: StreamPosition) -> None:
    """Upsert the position, never moving an offset back (a late, older batch cannot undo a
    newer one). One statement for all of the topic's partitions."""
    if not position.next_offsets:
        return
    rows = orjson.dumps(
        [{"partition": p, "next_offset": o} for p, o in position.next_offsets.items()]
    ).decode()
    await conn.execute(
        """INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset)
           SELECT %s, %s, partition, next_offset
           FROM jsonb_to_recordset(%s::jsonb) AS r(partition integer, next_offset bigint)
           ON CONFLICT (consumer_group, topic, partition) DO UPDATE
               SET next_offset = greatest(consumer_offsets.next_offset, excluded.next_offset),
                   updated_at = now()
               WHERE excluded.next_offset > consumer_offsets.next_offset""",
        (position.group, position.topic, rows),
    )


async def record_alone(pool: Pool, position: StreamPosition) -> None:
    """`record` in a transaction of its own."""
    if position.next_offsets:
        async with pool.connection() as conn:
            await record(conn, position)


async def stored(
    pool: Pool, group: str, partitions: Collection[tuple[str, int]]
) -> dict[tuple[str, int], int]:
    """The recorded next offset of each (topic, partition) that has one."""
    if not partitions:
        return {}
    async with pool.connection() as conn:
        cur = await conn.execute(
            """SELECT topic, partition, next_offset FROM consumer_offsets
               WHERE consumer_group = %s AND (topic, partition) IN
                   (SELECT * FROM unnest(%s::text[], %s::int[]))""",
            (group, [t for t, _ in partitions], [p for _, p in partitions]),
        )
        return {(r["topic"], r["partition"]): r["next_offset"] for r in await cur.fetchall()}


async def adopt(pool: Pool, group: str, positions: Mapping[tuple[str, int], int]) -> None:
    """Record these offsets where the partition has none yet (a partition first assigned,
    or a group that ran before its offsets were kept here), changing no recorded one."""
    if not positions:
        return
    async with pool.connection() as conn:
        await conn.execute(
            """INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset)
               SELECT %s, * FROM unnest(%s::text[], %s::int[], %s::int8[])
               ON CONFLICT DO NOTHING""",
            (
                group,
                [t for t, _ in positions],
                [p for _, p in positions],
                list(positions.values()),
            ),
        )
