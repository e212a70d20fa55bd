"""What the kiosks' sensors must load or delete, queued until each kiosk confirms.

A kiosk that is offline gets its commands when it comes back: nothing here expires. The
workflows that queue commands wait for the confirmations (`outstanding`).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.db import Pool

_ALL_KIOSKS_OF_STUDENT = """
SELECT k.id FROM kiosks k JOIN students s ON s.tenant_id = k.tenant_id
    AND s.school_id = k.school_id
WHERE k.tenant_id = %(tenant)s AND s.id = %(student)s AND k.active
"""


@dataclass(frozen=True)
class SensorCommand:
    id: int
    student_id: str
    finger: int
    action: str  # load | delete


class SensorCommands:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def queue_loads(self, tenant: str, student: str, finger: int) -> int:
        """A load for every active kiosk of the student's school (idempotent)."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"""INSERT INTO kiosk_sensor_commands (tenant_id, kiosk_id, student_id, finger,
                        action)
                    SELECT %(tenant)s, k.id, %(student)s, %(finger)s, 'load'
                    FROM ({_ALL_KIOSKS_OF_STUDENT}) k
                    WHERE NOT EXISTS (
                        SELECT 1 FROM kiosk_sensor_commands c
                        WHERE c.tenant_id = %(tenant)s AND c.kiosk_id = k.id
                          AND c.student_id = %(student)s AND c.finger = %(finger)s
                          AND c.action = 'load' AND c.status = 'pending')""",
                {"tenant": tenant, "student": student, "finger": finger},
            )
            return cur.rowcount

    async def queue_deletes(self, tenant: str, student: str) -> int:
        """Cancel the student's pending loads, and have every kiosk that may hold one of
        their templates (any of the school's, and any ever asked to load one) delete it."""
        params = {"tenant": tenant, "student": student}
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(
                "UPDATE kiosk_sensor_commands SET status = 'cancelled' WHERE tenant_id = "
                "%(tenant)s AND student_id = %(student)s AND action = 'load' "
                "AND status = 'pending'",
                params,
            )
            cur = await conn.execute(
                f"""INSERT INTO kiosk_sensor_commands (tenant_id, kiosk_id, student_id, finger,
                        action)
                    SELECT DISTINCT %(tenant)s, k.kiosk_id, %(student)s, f.finger, 'delete'
                    FROM (SELECT id AS kiosk_id FROM ({_ALL_KIOSKS_OF_STUDENT}) a
                          UNION SELECT kiosk_id FROM kiosk_sensor_commands
                          WHERE tenant_id = %(tenant)s AND student_id = %(student)s) k
                    CROSS JOIN (SELECT DISTINCT finger FROM kiosk_sensor_commands
                                WHERE tenant_id = %(tenant)s AND student_id = %(student)s
                                  AND action = 'load') f
                    WHERE NOT EXISTS (
                        SELECT 1 FROM kiosk_sensor_commands c
                        WHERE c.tenant_id = %(tenant)s AND c.kiosk_id = k.kiosk_id
                          AND c.student_id = %(student)s AND c.finger = f.finger
                          AND c.action = 'delete' AND c.status = 'pending')""",
                params,
            )
            return cur.rowcount

    async def outstanding(self, tenant: str, student: str, action: str) -> list[str]:
        """Kiosks that have not yet confirmed a pending command of this kind."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT DISTINCT kiosk_id FROM kiosk_sensor_commands WHERE tenant_id = %s "
                    "AND student_id = %s AND action = %s AND status = 'pending' ORDER BY 1",
                    (tenant, student, action),
                )
            ).fetchall()
        return [r["kiosk_id"] for r in rows]

    async def confirmed(self, tenant: str, student: str, action: str) -> list[tuple[str, str]]:
        """(kiosk, when) for every confirmed command of this kind, for the audit trail."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT kiosk_id, max(done_at) AS at FROM kiosk_sensor_commands "
                    "WHERE tenant_id = %s AND student_id = %s AND action = %s "
                    "AND status = 'done' GROUP BY kiosk_id ORDER BY kiosk_id",
                    (tenant, student, action),
                )
            ).fetchall()
        return [(r["kiosk_id"], r["at"].isoformat()) for r in rows]

    async def pending_for(self, tenant: str, kiosk: str) -> list[SensorCommand]:
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT id, student_id, finger, action FROM kiosk_sensor_commands "
                    "WHERE tenant_id = %s AND kiosk_id = %s AND status = 'pending' ORDER BY id",
                    (tenant, kiosk),
                )
            ).fetchall()
        return [SensorCommand(r["id"], r["student_id"], r["finger"], r["action"]) for r in rows]

    async def confirm(self, tenant: str, kiosk: str, command_id: int) -> SensorCommand | None:
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "UPDATE kiosk_sensor_commands SET status = 'done', done_at = now() "
                    "WHERE tenant_id = %s AND kiosk_id = %s AND id = %s AND status = 'pending' "
                    "RETURNING id, student_id, finger, action",
                    (tenant, kiosk, command_id),
                )
            ).fetchone()
        if row is None:
            return None
        return SensorCommand(row["id"], row["student_id"], row["finger"], row["action"])
