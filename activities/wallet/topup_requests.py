"""Auto top-up requests to the bank: queued by a payment that took a wallet below its
guardian's threshold (activities/wallet/payments.py), published here to the bank-facing
topic (`topics.TOPUP_REQUESTS`) by the worker.

A request is claimed with FOR UPDATE SKIP LOCKED and marked sent in the same transaction
after Kafka acknowledged it, so two workers never both publish a row; a worker that dies
between the acknowledgement and the commit publishes it again (at least once: the bank
answers with a top-up whose topupId is the request's id, which credits once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC

import orjson

from core.db import Pool

log = logging.getLogger(__name__)

# (key, value) to the bank-facing topic, returning once the broker has it
Publish = Callable[[bytes, bytes], Awaitable[None]]


class TopUpRequestRelay:
    def __init__(self, pool: Pool, publish: Publish, *, idle_s: float = 0.5) -> None:
        self.pool = pool
        self.publish = publish
        self.idle_s = idle_s

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set."""
        while not stop.is_set():
            try:
                busy = await self.publish_due() > 0
            except Exception:
                # Kafka or the database may be briefly away: keep going, try again
                log.exception("top-up request round failed")
                busy = False
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.idle_s)

    async def publish_due(self, limit: int = 50) -> int:
        """Publish up to `limit` pending requests; returns how many."""
        async with self.pool.connection() as conn, conn.transaction():
            rows = await (
                await conn.execute(
                    """SELECT tenant_id, id, student_id, virtual_account, amount, created_at
                         FROM topup_requests WHERE status = 'pending'
                        ORDER BY created_at LIMIT %s FOR UPDATE SKIP LOCKED""",
                    (limit,),
                )
            ).fetchall()
            for row in rows:
                await self.publish(row["student_id"].encode(), request_message(row))
                await conn.execute(
                    "UPDATE topup_requests SET status = 'sent', sent_at = now() "
                    "WHERE tenant_id = %s AND id = %s",
                    (row["tenant_id"], row["id"]),
                )
        return len(rows)


def request_message(row: dict[str, object]) -> bytes:
    """The request as the bank reads it (camelCase JSON, amounts as decimal strings)."""
    created = row["created_at"]
    return orjson.dumps(
        {
            "requestId": row["id"],
            "tenantId": row["tenant_id"],
            "studentId": row["student_id"],
            "virtualAccount": row["virtual_account"],
            "amount": f"{row['amount']:f}",
            "currency": "IDR",
            "reason": "auto_topup",
            "createdAt": created.astimezone(UTC).isoformat()  # type: ignore[attr-defined]
            if created is not None
            else None,
            "answerWith": "a top-up event whose topupId is this requestId",
        }
    )
