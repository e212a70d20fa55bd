"""Consent decisions in PostgreSQL (append-only) and the status derived from them."""

from __future__ import annotations

from core.biometrics.consent import ConsentEvent, ConsentStatus, Decision, status
from core.db import Pool


class Consents:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def record(
        self, tenant: str, student: str, party: str, decision: Decision, recorded_by: str
    ) -> ConsentStatus:
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO biometric_consent_events (tenant_id, student_id, party, decision, "
                "recorded_by) VALUES (%s, %s, %s, %s, %s)",
                (tenant, student, party, decision.value, recorded_by),
            )
        return await self.status(tenant, student)

    async def status(self, tenant: str, student: str) -> ConsentStatus:
        async with self.pool.connection() as conn:
            events = await (
                await conn.execute(
                    "SELECT party, decision, at FROM biometric_consent_events "
                    "WHERE tenant_id = %s AND student_id = %s ORDER BY at, id",
                    (tenant, student),
                )
            ).fetchall()
            guardians = await (
                await conn.execute(
                    "SELECT guardian_id FROM student_guardians "
                    "WHERE tenant_id = %s AND student_id = %s",
                    (tenant, student),
                )
            ).fetchall()
        return status(
            [ConsentEvent(e["party"], Decision(e["decision"]), e["at"]) for e in events],
            [g["guardian_id"] for g in guardians],
        )

    async def statuses(self, tenant: str, students: list[str]) -> dict[str, ConsentStatus]:
        """`status` of each of these students, in two queries (a page lists many)."""
        async with self.pool.connection() as conn:
            events = await (
                await conn.execute(
                    "SELECT student_id, party, decision, at FROM biometric_consent_events "
                    "WHERE tenant_id = %s AND student_id = ANY(%s) ORDER BY at, id",
                    (tenant, students),
                )
            ).fetchall()
            guardians = await (
                await conn.execute(
                    "SELECT student_id, guardian_id FROM student_guardians "
                    "WHERE tenant_id = %s AND student_id = ANY(%s)",
                    (tenant, students),
                )
            ).fetchall()
        return {
            student: status(
                [
                    ConsentEvent(e["party"], Decision(e["decision"]), e["at"])
                    for e in events
                    if e["student_id"] == student
                ],
                [g["guardian_id"] for g in guardians if g["student_id"] == student],
            )
            for student in students
        }
