"""Alert cases in PostgreSQL: opened from the stored evaluation, escalated, decided (with
the decision in the audit trail)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from psycopg.types.json import Jsonb
from temporalio import activity

from core.alert_handoff import HandOff
from core.cases import (
    CASE_WORKFLOW,
    SERVICE_LEVEL,
    CaseOpening,
    CaseRequest,
    DecideCase,
    case_workflow_id,
)
from core.db import Pool
from core.temporal.start import Labels, start_by_key

CaseStatus = Literal["open", "escalated", "decided"]


@dataclass(frozen=True)
class Case:
    """An alert case as operators list it."""

    msg_id: str
    evaluation_id: str
    tx_type: str
    status: str
    outcome: str | None
    decided_by: str | None
    opened_at: datetime
    escalated_at: datetime | None
    decided_at: datetime | None


class Cases:
    """Reads of the cases table for the operators' API (the case workflow's activities below
    write it)."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def newest(self, tenant: str, status: CaseStatus | None, limit: int) -> list[Case]:
        """The tenant's last `limit` cases (of this status, if one is given), newest first."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT msg_id, evaluation_id, tx_type, status, outcome, decided_by, "
                    "opened_at, escalated_at, decided_at FROM cases "
                    "WHERE tenant_id = %s AND (%s::text IS NULL OR status = %s) "
                    "ORDER BY opened_at DESC LIMIT %s",
                    (tenant, status, status, limit),
                )
            ).fetchall()
        return [Case(**row | {"evaluation_id": str(row["evaluation_id"])}) for row in rows]

    async def status(self, tenant: str, msg_id: str) -> str | None:
        """The case's status (open, escalated or decided); None if there is no such case."""
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT status FROM cases WHERE tenant_id = %s AND msg_id = %s",
                    (tenant, msg_id),
                )
            ).fetchone()
        return None if row is None else str(row["status"])


@dataclass(frozen=True)
class Opened:
    """The alerting messages whose cases are open, and where the tenant hands alerts off."""

    msg_ids: list[str]
    hand_off: HandOff | None


class CaseActivities:
    def __init__(
        self,
        pool: Pool,
        service_level: timedelta = SERVICE_LEVEL,
        hand_off_retry: timedelta = timedelta(hours=6),
        hand_off_timeout: timedelta = timedelta(seconds=5),
    ) -> None:
        self.pool = pool
        self.service_level = service_level
        self.hand_off_retry = hand_off_retry
        self.hand_off_timeout = hand_off_timeout

    @activity.defn(name="cases.open")
    async def open(self, case: CaseRequest) -> bool:
        """Open the case from its alerting evaluation; False if there is none (not an alert).
        (What cases opened before alerts were handed off replay.)"""
        return case.msg_id in (await self.open_rows(case.tenant_id, [case.msg_id])).msg_ids

    @activity.defn(name="cases.open_case")
    async def open_case(self, case: CaseRequest) -> CaseOpening:
        """Open the case from its alerting evaluation, and say where its alert goes."""
        opened = await self.open_rows(case.tenant_id, [case.msg_id])
        if case.msg_id not in opened.msg_ids:
            return CaseOpening(opened=False)
        return CaseOpening(opened=True, hand_off=opened.hand_off)

    async def open_rows(self, tenant: str, msg_ids: list[str]) -> Opened:
        """Open a case for each of these messages whose stored evaluation alerted; returns
        those messages' ids, whether their case was opened now or before, and the tenant's
        receivers (read in the same statement: a tenant without any costs nothing more)."""
        workflow_ids = [case_workflow_id(tenant, msg_id) for msg_id in msg_ids]
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                """WITH alerting AS (
                       SELECT e.tenant_id, e.msg_id, e.evaluation_id, e.tx_type, m.workflow_id
                       FROM unnest(%s::text[], %s::text[]) AS m(msg_id, workflow_id)
                       JOIN evaluations e ON e.tenant_id = %s AND e.msg_id = m.msg_id
                       WHERE e.status = 'ALRT'
                   ), opened AS (
                       INSERT INTO cases (tenant_id, msg_id, evaluation_id, tx_type, workflow_id)
                       SELECT tenant_id, msg_id, evaluation_id, tx_type, workflow_id
                       FROM alerting
                       ON CONFLICT DO NOTHING
                   )
                   SELECT a.msg_id, h.webhook_url IS NOT NULL AS webhook,
                          h.syslog_host IS NOT NULL AS syslog
                   FROM alerting a LEFT JOIN alert_handoff h ON h.tenant_id = a.tenant_id""",
                (msg_ids, workflow_ids, tenant),
            )
            rows = await cur.fetchall()
        receivers = rows[0] if rows else None
        hand_off = None
        if receivers is not None and (receivers["webhook"] or receivers["syslog"]):
            hand_off = HandOff(
                webhook=receivers["webhook"],
                syslog=receivers["syslog"],
                retry_for_s=int(self.hand_off_retry.total_seconds()),
                attempt_timeout_s=max(1, round(self.hand_off_timeout.total_seconds())),
            )
        return Opened([row["msg_id"] for row in rows], hand_off)

    async def open_with_workflows(self, tenant: str, msg_ids: list[str]) -> None:
        """From an activity: open the cases of these messages' stored alerts, rows and
        workflows (on the activity's task queue). Idempotent, so a retried activity opens
        each case once.

        A batch opens its cases so rather than as child workflows: a child's start costs
        the server more, and each case then needs no step of its own to store its row.
        Each workflow's first task is delayed by the service level: it comes with the
        operator's decision (a signal ends the delay) or at the escalation. A case then
        costs the server one write and the worker nothing while it waits, where a first
        task at once (to start a timer) would cost the server more and the worker an
        activation. A tenant that hands its alerts off pays that: its cases start at once,
        so that the hand-off does not wait for the service level."""
        opened = await self.open_rows(tenant, msg_ids)
        client, task_queue = activity.client(), activity.info().task_queue
        service_level_s = int(self.service_level.total_seconds())
        delay = None if opened.hand_off else self.service_level

        async def start(msg_id: str) -> None:
            case = CaseRequest(
                tenant,
                msg_id,
                opened=True,
                service_level_s=service_level_s,
                hand_off=opened.hand_off,
            )
            # a retry's start finds the case open (or decided: it is not opened again)
            await start_by_key(
                client,
                CASE_WORKFLOW,
                case,
                id=case_workflow_id(tenant, msg_id),
                task_queue=task_queue,
                labels=Labels(tenant, "case", message_id=msg_id),
                start_delay=delay,
            )

        await asyncio.gather(*(start(msg_id) for msg_id in opened.msg_ids))

    @activity.defn(name="cases.escalate")
    async def escalate(self, case: CaseRequest) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE cases SET status = 'escalated', escalated_at = now() "
                "WHERE tenant_id = %s AND msg_id = %s AND status = 'open'",
                (case.tenant_id, case.msg_id),
            )

    @activity.defn(name="cases.decide")
    async def decide(self, request: DecideCase) -> None:
        case, decision = request.case, request.decision
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                """UPDATE cases SET status = 'decided', outcome = %s, decided_by = %s,
                       note = %s, decided_at = now()
                   WHERE tenant_id = %s AND msg_id = %s AND status <> 'decided'""",
                (decision.outcome, decision.operator, decision.note, case.tenant_id, case.msg_id),
            )
            if cur.rowcount == 1:
                await conn.execute(
                    """INSERT INTO audit_log (tenant_id, actor, actor_role, action, target,
                           reason, details) VALUES (%s, %s, 'operator', 'case.decide', %s, %s,
                           %s)""",
                    (
                        case.tenant_id,
                        decision.operator,
                        f"case:{case.msg_id}",
                        decision.note,
                        Jsonb({"outcome": decision.outcome}),
                    ),
                )
