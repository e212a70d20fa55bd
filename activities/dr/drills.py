"""The restore drills' stored figures, as operators and `/metrics` read them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.db import Pool


@dataclass(frozen=True)
class LastDrill:
    rpo_ms: float | None
    rto_s: float | None
    ok: bool
    finished_at: datetime


class Drills:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def last(self) -> LastDrill | None:
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT rpo_ms, rto_s, ok, finished_at FROM dr_drills "
                    "ORDER BY finished_at DESC LIMIT 1"
                )
            ).fetchone()
        if row is None:
            return None
        return LastDrill(
            rpo_ms=None if row["rpo_ms"] is None else float(row["rpo_ms"]),
            rto_s=None if row["rto_s"] is None else float(row["rto_s"]),
            ok=bool(row["ok"]),
            finished_at=row["finished_at"],
        )
