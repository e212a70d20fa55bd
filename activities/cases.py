"""Alert cases in PostgreSQL: opened from the stored evaluation, escalated, decided (with
the decision in the audit trail)."""

from __future__ import annotations

from psycopg.types.json import Jsonb
from temporalio import activity

from saku.db import Pool
from saku.domain.cases import (
    DECIDE_CASE,
    ESCALATE_CASE,
    OPEN_CASE,
    CaseRequest,
    DecideCase,
    case_workflow_id,
)


class CaseActivities:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    @activity.defn(name=OPEN_CASE)
    async def open(self, case: CaseRequest) -> bool:
        """Open the case from its alerting evaluation; False if there is none (not an alert)."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                """INSERT INTO cases (tenant_id, msg_id, evaluation_id, tx_type, workflow_id)
                   SELECT tenant_id, msg_id, evaluation_id, tx_type, %s FROM evaluations
                   WHERE tenant_id = %s AND msg_id = %s AND status = 'ALRT'
                   ON CONFLICT DO NOTHING""",
                (case_workflow_id(case.tenant_id, case.msg_id), case.tenant_id, case.msg_id),
            )
            if cur.rowcount == 1:
                return True
            found = await (
                await conn.execute(
                    "SELECT 1 FROM cases WHERE tenant_id = %s AND msg_id = %s",
                    (case.tenant_id, case.msg_id),
                )
            ).fetchone()
        return found is not None

    @activity.defn(name=ESCALATE_CASE)
    async def escalate(self, case: CaseRequest) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE cases SET status = 'escalated', escalated_at = now() "
                "WHERE tenant_id = %s AND msg_id = %s AND status = 'open'",
                (case.tenant_id, case.msg_id),
            )

    @activity.defn(name=DECIDE_CASE)
    async def decide(self, request: DecideCase) -> None:
        case, decision = request.case, request.decision
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                """UPDATE cases SET status = 'decided', outcome = %s, decided_by = %s,
                       note = %s, decided_at = now()
                   WHERE tenant_id = %s AND msg_id = %s AND status <> 'decided'""",
                (decision.outcome, decision.operator, decision.note, case.tenant_id,
                 case.msg_id),
            )  # fmt: skip
            if cur.rowcount == 1:
                await conn.execute(
                    """INSERT INTO audit_log (tenant_id, actor, actor_role, action, target,
                           reason, details) VALUES (%s, %s, 'operator', 'case.decide', %s, %s,
                           %s)""",
                    (case.tenant_id, decision.operator, f"case:{case.msg_id}", decision.note,
                     Jsonb({"outcome": decision.outcome})),
                )  # fmt: skip
