"""The self-check's side effects: one row in PostgreSQL, one short-lived key in Valkey."""

from __future__ import annotations

import logging

import redis.asyncio as redis
from temporalio import activity

from core.db import Pool
from core.selfcheck import (
    SelfCheckRequest,
    SelfCheckResult,
    selfcheck_valkey_key,
)

SELFCHECK_KEY_TTL_S = 3600
log = logging.getLogger(__name__)


class SelfCheckActivities:
    def __init__(self, pool: Pool, valkey: redis.Redis) -> None:
        self.pool = pool
        self.valkey = valkey

    @activity.defn(name="selfcheck.record")
    async def record(self, request: SelfCheckRequest) -> SelfCheckResult:
        workflow_id = activity.info().workflow_id or ""
        async with self.pool.connection() as conn:
            await conn.execute(
                """INSERT INTO selfchecks (check_id, source, workflow_id) VALUES (%s, %s, %s)
                   ON CONFLICT (check_id) DO NOTHING""",
                (request.check_id, request.source, workflow_id),
            )
            cur = await conn.execute(
                "SELECT 1 FROM selfchecks WHERE check_id = %s", (request.check_id,)
            )
            row_exists = await cur.fetchone() is not None
        key = selfcheck_valkey_key(request.check_id)
        await self.valkey.set(key, workflow_id, ex=SELFCHECK_KEY_TTL_S)
        key_exists = bool(await self.valkey.exists(key))
        log.info("self-check recorded", extra={"workflow_id": workflow_id})
        return SelfCheckResult(request.check_id, workflow_id, row_exists, key_exists)
