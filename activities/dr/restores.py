"""The point-in-time restores Saku was brought up on (`dr_restores`, in the restored copy),
and what such a restore lost that nobody sends again.

`saku dr restore` records each restore with a new epoch. Kiosks see the epoch in their
configuration and check their synced offline sales against the restored database; the
stream consumer, on its start, evaluates again the messages the restore kept without their
evaluation (stored before the restore point, evaluated after it: the restored offsets are
past them, so Kafka does not bring them again).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.db import Pool, create_pool, migrate
from core.monitoring.transactions import TxType

# Messages that trigger an evaluation and come from the bank's stream (HTTP or Kafka). A
# kiosk purchase's or top-up's evaluation comes with its movement, which its starter runs
# again when the kiosk or the bank asks again (api/starters/wallet.py).
STREAM_TRIGGERS = sorted(TxType.TRIGGERS - {TxType.KIOSK_PURCHASE, TxType.TOP_UP})
# How far before the restore point a message without evaluation is looked for: a message
# is evaluated within seconds of being stored, so one stored a day before the restore point
# and still not evaluated was not lost by the restore.
SWEEP_WINDOW = timedelta(days=1)
# any constant: the same in every consumer, so one of them sweeps at a time
_SWEEP_LOCK_ID = 0x5A4B56


@dataclass(frozen=True)
class RestoreEpoch:
    epoch: str
    restored_at: datetime
    restored_to: datetime | None

    @property
    def point(self) -> datetime:
        """The restore point, or (not known) the restore itself: nothing is later."""
        return self.restored_to or self.restored_at


@dataclass(frozen=True)
class Unevaluated:
    tenant_id: str
    msg_id: str
    tx_type: str
    received_at: datetime


class Restores:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def record(self, backup_id: str, restored_to: datetime | None) -> str:
        """A new epoch for this database: it was restored (returns the epoch)."""
        epoch = uuid.uuid4().hex
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO dr_restores (epoch, restored_to, backup_id) VALUES (%s, %s, %s)",
                (epoch, restored_to, backup_id),
            )
        return epoch

    async def epoch(self) -> str | None:
        """The latest restore's epoch; None if this database was never restored."""
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT epoch FROM dr_restores ORDER BY restored_at DESC LIMIT 1"
                )
            ).fetchone()
        return None if row is None else str(row["epoch"])

    async def unswept(self) -> list[RestoreEpoch]:
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT epoch, restored_at, restored_to FROM dr_restores "
                    "WHERE swept_at IS NULL ORDER BY restored_at"
                )
            ).fetchall()
        return [RestoreEpoch(**row) for row in rows]

    async def swept(self, epoch: str) -> None:
        async with self.pool.connection() as conn:
            await conn.execute("UPDATE dr_restores SET swept_at = now() WHERE epoch = %s", (epoch,))

    @asynccontextmanager
    async def sweeping(self) -> AsyncIterator[bool]:
        """True inside if this process may sweep (no other one is sweeping now)."""
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute("SELECT pg_try_advisory_lock(%s) AS mine", (_SWEEP_LOCK_ID,))
            ).fetchone()
            mine = bool(row and row["mine"])
            try:
                yield mine
            finally:
                if mine:
                    await conn.execute("SELECT pg_advisory_unlock(%s)", (_SWEEP_LOCK_ID,))

    async def unevaluated(
        self, restore: RestoreEpoch, after: Unevaluated | None, limit: int
    ) -> list[Unevaluated]:
        """The next `limit` stream messages stored within SWEEP_WINDOW before the restore
        point and never evaluated, in the order they came, after `after`."""
        until = restore.point
        since = until - SWEEP_WINDOW
        cursor = (
            (after.received_at, after.tenant_id, after.msg_id)
            if after is not None
            else (since, "", "")
        )
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    """SELECT r.tenant_id, r.msg_id, r.tx_type, r.received_at
                       FROM raw_messages r
                       WHERE r.received_at >= %s AND r.received_at <= %s
                         AND (r.received_at, r.tenant_id, r.msg_id) > (%s, %s, %s)
                         AND r.tx_type = ANY(%s)
                         AND NOT EXISTS (SELECT 1 FROM evaluations e
                                         WHERE e.tenant_id = r.tenant_id
                                           AND e.msg_id = r.msg_id)
                       ORDER BY r.received_at, r.tenant_id, r.msg_id
                       LIMIT %s""",
                    (since, until, *cursor, STREAM_TRIGGERS, limit),
                )
            ).fetchall()
        return [Unevaluated(**row) for row in rows]


async def mark_restored(url: str, backup_id: str, restored_to: datetime | None) -> str:
    """Bring a restored copy to the current schema (as Saku's start would) and record the
    restore in it; returns its epoch."""
    await migrate(url)
    async with create_pool(url, max_size=1) as pool:
        return await Restores(pool).record(backup_id, restored_to)
