"""Who read which workflow's payloads through the codec endpoint, and when: a row of the
append-only `audit_log` per decode (action `payloads.decode`, target the workflow)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from core.db import Pool
from core.security import Principal

DECODE = "payloads.decode"
# a decode of payloads of several workflows names them all in `details`, up to this many
_NAMED = 50


@dataclass(frozen=True)
class DecodeRecord:
    tenant_id: str
    actor: str
    actor_role: str
    target: str
    reason: str
    details: dict[str, Any]
    at: datetime


class PayloadAudit:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def decoded(
        self,
        principal: Principal,
        *,
        namespace: str,
        workflows: Sequence[str],
        payloads: int,
        sealed: int,
        via: str,
    ) -> None:
        """Record one decode request (before its answer leaves)."""
        named = sorted(set(workflows))
        target = f"workflow:{named[0]}" if len(named) == 1 else f"workflows:{len(named)}"
        details = {
            "namespace": namespace,
            "workflows": named[:_NAMED],
            "payloads": payloads,
            "sealed": sealed,
        }
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO audit_log (tenant_id, actor, actor_role, action, target, reason,"
                " details) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    principal.tenant,
                    principal.subject,
                    principal.role.value,
                    DECODE,
                    target,
                    via,
                    Jsonb(details),
                ),
            )

    async def decodes(self, tenant: str, *, limit: int = 100) -> list[DecodeRecord]:
        """The tenant's decodes, newest first."""
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT tenant_id, actor, actor_role, target, reason, details, at FROM audit_log"
                " WHERE tenant_id = %s AND action = %s ORDER BY at DESC, id DESC LIMIT %s",
                (tenant, DECODE, limit),
            )
            return [DecodeRecord(**row) for row in await cur.fetchall()]
