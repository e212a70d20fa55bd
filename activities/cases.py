"""Alert cases in PostgreSQL: opened from the stored evaluation, escalated, decided (with
the decision in the audit trail)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, LiteralString

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb
from temporalio import activity

from core.alert_handoff import HandOff
from core.cases import (
    CASE_WORKFLOW,
    SERVICE_LEVEL,
    CaseDecision,
    CaseOpening,
    CaseRequest,
    ConfirmCase,
    DecideCase,
    case_workflow_id,
)
from core.db import Pool
from core.temporal.start import Labels, start_by_key

CaseStatus = Literal["open", "escalated", "awaiting_confirmation", "decided"]
# how the queue may be sorted: the most urgent first, the oldest, the newest, the riskiest,
# the largest
QueueSort = Literal["due", "age", "newest", "score", "amount"]
_QUEUE_ORDER: dict[str, str] = {
    "due": "c.due_at ASC NULLS LAST, c.opened_at",
    "age": "c.opened_at ASC",
    "newest": "c.opened_at DESC",
    "score": "t.score DESC NULLS LAST, c.opened_at",
    "amount": "amount DESC NULLS LAST, c.opened_at",
}
SYSTEM_ACTOR = "saku"  # what the case workflow does by itself (escalations)

# a case's columns, with the names of the people it names (a principal's subject is its
# user's id; one that is not a user's, a test's say, shows as it is)
_CASE_SELECT = """
    SELECT c.msg_id, c.evaluation_id::text AS evaluation_id, c.tx_type, c.status, c.outcome,
           c.decided_by, c.note, c.workflow_id, c.opened_at, c.escalated_at, c.decided_at,
           c.interdicted, c.due_at, c.assigned_to, c.assigned_at, c.proposed_outcome,
           c.proposed_at, c.confirmed_by, c.confirmed_at,
           coalesce(ua.username, c.assigned_to) AS assigned_name,
           coalesce(ud.username, c.decided_by) AS decided_name,
           coalesce(uc.username, c.confirmed_by) AS confirmed_name
    FROM cases c
    LEFT JOIN users ua ON ua.id::text = c.assigned_to
    LEFT JOIN users ud ON ud.id::text = c.decided_by
    LEFT JOIN users uc ON uc.id::text = c.confirmed_by
"""


@dataclass(frozen=True)
class Case:
    """An alert case as operators see it."""

    msg_id: str
    evaluation_id: str
    tx_type: str
    status: str
    outcome: str | None
    decided_by: str | None
    note: str | None
    workflow_id: str
    opened_at: datetime
    escalated_at: datetime | None
    decided_at: datetime | None
    interdicted: bool
    due_at: datetime | None
    assigned_to: str | None
    assigned_at: datetime | None
    proposed_outcome: str | None
    proposed_at: datetime | None
    confirmed_by: str | None
    confirmed_at: datetime | None
    assigned_name: str | None
    decided_name: str | None
    confirmed_name: str | None


@dataclass(frozen=True)
class QueuedCase:
    """A case in the queue: what it is, how risky, how urgent, who has it."""

    msg_id: str
    tx_type: str
    status: str
    interdicted: bool
    opened_at: datetime
    due_at: datetime | None
    escalated_at: datetime | None
    assigned_to: str | None
    assigned_name: str | None
    typology: str | None  # the highest-scoring typology
    score: float | None
    amount: Decimal | None
    currency: str | None


@dataclass(frozen=True)
class CaseEvent:
    """One line of a case's audit trail."""

    at: datetime
    actor: str
    actor_name: str
    actor_role: str
    action: str
    note: str
    details: dict[str, Any]


@dataclass(frozen=True)
class HistoryLine:
    """A past money movement of an account, from that account's side."""

    msg_id: str
    tx_type: str
    created_at: datetime
    direction: str  # out | in
    counterparty: str
    amount: Decimal
    currency: str
    status: str | None
    category: str | None


async def _append_event(
    conn: AsyncConnection[Any],
    tenant: str,
    msg_id: str,
    actor: str,
    role: str,
    action: str,
    note: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO case_events (tenant_id, msg_id, actor, actor_role, action, note, details) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (tenant, msg_id, actor, role, action, note, Jsonb(details or {})),
    )


class Cases:
    """The cases table and each case's audit trail, for the operators' API and console (the
    case workflow's activities below decide and escalate)."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def newest(self, tenant: str, status: CaseStatus | None, limit: int) -> list[Case]:
        """The tenant's last `limit` cases (of this status, if one is given), newest first."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    _CASE_SELECT + "WHERE c.tenant_id = %s AND (%s::text IS NULL OR c.status = %s) "
                    "ORDER BY c.opened_at DESC LIMIT %s",
                    (tenant, status, status, limit),
                )
            ).fetchall()
        return [Case(**row) for row in rows]

    async def get(self, tenant: str, msg_id: str) -> Case | None:
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    _CASE_SELECT + "WHERE c.tenant_id = %s AND c.msg_id = %s", (tenant, msg_id)
                )
            ).fetchone()
        return None if row is None else Case(**row)

    async def status(self, tenant: str, msg_id: str) -> str | None:
        """The case's status; None if there is no such case."""
        case = await self.get(tenant, msg_id)
        return None if case is None else case.status

    async def queue(
        self,
        tenant: str,
        *,
        status: CaseStatus | None = None,
        typology: str | None = None,
        assigned_to: str | None = None,
        sort: QueueSort = "due",
        limit: int = 200,
    ) -> list[QueuedCase]:
        """The tenant's cases not yet decided (of this status, typology, assignee), sorted."""
        order = _QUEUE_ORDER[sort]
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    f"""SELECT c.msg_id, c.tx_type, c.status, c.interdicted, c.opened_at,
                               c.due_at, c.escalated_at, c.assigned_to,
                               coalesce(u.username, c.assigned_to) AS assigned_name,
                               t.typology, t.score,
                               (r.transaction->>'amount')::numeric AS amount,
                               r.transaction->>'currency' AS currency
                        FROM cases c
                        LEFT JOIN evaluations e ON e.evaluation_id = c.evaluation_id
                        LEFT JOIN LATERAL (
                            SELECT ty->>'id' AS typology, (ty->>'score')::float8 AS score
                            FROM jsonb_array_elements(
                                coalesce(e.result->'adjudication'->'typologies', '[]')) ty
                            ORDER BY (ty->>'score')::float8 DESC LIMIT 1) t ON true
                        LEFT JOIN raw_messages r
                          ON r.tenant_id = c.tenant_id AND r.msg_id = c.msg_id
                        LEFT JOIN users u ON u.id::text = c.assigned_to
                        WHERE c.tenant_id = %(tenant)s AND c.status <> 'decided'
                          AND (%(status)s::text IS NULL OR c.status = %(status)s)
                          AND (%(typology)s::text IS NULL OR t.typology = %(typology)s)
                          AND (%(assignee)s::text IS NULL OR c.assigned_to = %(assignee)s)
                        ORDER BY {order} LIMIT %(limit)s""",
                    {
                        "tenant": tenant,
                        "status": status,
                        "typology": typology,
                        "assignee": assigned_to,
                        "limit": limit,
                    },
                )
            ).fetchall()
        return [QueuedCase(**row) for row in rows]

    async def typologies(self, tenant: str) -> list[str]:
        """The typologies the tenant's undecided cases alerted on (the queue's filter)."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    """SELECT DISTINCT ty->>'id' AS typology
                       FROM cases c JOIN evaluations e ON e.evaluation_id = c.evaluation_id
                       CROSS JOIN LATERAL jsonb_array_elements(
                           coalesce(e.result->'adjudication'->'typologies', '[]')) ty
                       WHERE c.tenant_id = %s AND c.status <> 'decided'
                       ORDER BY 1""",
                    (tenant,),
                )
            ).fetchall()
        return [row["typology"] for row in rows]

    async def transaction_of(self, tenant: str, msg_id: str) -> dict[str, Any] | None:
        """The normalised transaction the case's evaluation read (None once purged)."""
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT transaction FROM raw_messages WHERE tenant_id = %s AND msg_id = %s",
                    (tenant, msg_id),
                )
            ).fetchone()
        return None if row is None else row["transaction"]

    async def account_history(
        self, tenant: str, account: str, limit: int = 20
    ) -> list[HistoryLine]:
        """The account's last `limit` money movements, either way, newest first."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    """(SELECT msg_id, tx_type, created_at, 'out' AS direction,
                               destination_account AS counterparty, amount, currency, status,
                               category
                        FROM transaction_edges WHERE tenant_id = %(t)s AND source_account = %(a)s
                        ORDER BY created_at DESC LIMIT %(n)s)
                       UNION ALL
                       (SELECT msg_id, tx_type, created_at, 'in', source_account, amount,
                               currency, status, category
                        FROM transaction_edges
                        WHERE tenant_id = %(t)s AND destination_account = %(a)s
                        ORDER BY created_at DESC LIMIT %(n)s)
                       ORDER BY created_at DESC LIMIT %(n)s""",
                    {"t": tenant, "a": account, "n": limit},
                )
            ).fetchall()
        return [HistoryLine(**row) for row in rows]

    async def events(self, tenant: str, msg_id: str) -> list[CaseEvent]:
        """The case's audit trail, oldest first."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    """SELECT ev.at, ev.actor, coalesce(u.username, ev.actor) AS actor_name,
                              ev.actor_role, ev.action, ev.note, ev.details
                       FROM case_events ev LEFT JOIN users u ON u.id::text = ev.actor
                       WHERE ev.tenant_id = %s AND ev.msg_id = %s ORDER BY ev.id""",
                    (tenant, msg_id),
                )
            ).fetchall()
        return [CaseEvent(**row) for row in rows]

    async def record_view(self, tenant: str, msg_id: str, actor: str, role: str) -> None:
        """Who saw the case: once per person per few minutes (a page reloaded after each
        action is one look, not many)."""
        async with self.pool.connection() as conn:
            await conn.execute(
                """INSERT INTO case_events (tenant_id, msg_id, actor, actor_role, action)
                   SELECT %(t)s, %(m)s, %(a)s, %(r)s, 'viewed'
                   WHERE EXISTS (SELECT 1 FROM cases WHERE tenant_id = %(t)s AND msg_id = %(m)s)
                     AND NOT EXISTS (
                       SELECT 1 FROM case_events
                       WHERE tenant_id = %(t)s AND msg_id = %(m)s AND actor = %(a)s
                         AND action = 'viewed' AND at > now() - interval '5 minutes')""",
                {"t": tenant, "m": msg_id, "a": actor, "r": role},
            )

    async def assign(self, tenant: str, msg_id: str, actor: str, role: str) -> bool:
        """Assign an undecided case to this person; False if there is none to assign."""
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "UPDATE cases SET assigned_to = %s, assigned_at = now() "
                "WHERE tenant_id = %s AND msg_id = %s AND status <> 'decided'",
                (actor, tenant, msg_id),
            )
            if cur.rowcount != 1:
                return False
            await _append_event(conn, tenant, msg_id, actor, role, "assigned")
        return True

    async def add_note(self, tenant: str, msg_id: str, actor: str, role: str, note: str) -> bool:
        """A note on the case's audit trail; False if there is no such case."""
        async with self.pool.connection() as conn, conn.transaction():
            found = await (
                await conn.execute(
                    "SELECT 1 FROM cases WHERE tenant_id = %s AND msg_id = %s", (tenant, msg_id)
                )
            ).fetchone()
            if found is None:
                return False
            await _append_event(conn, tenant, msg_id, actor, role, "noted", note)
        return True


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
        opened = await self.open_rows(case.tenant_id, [case.msg_id], case.service_level_s)
        return case.msg_id in opened.msg_ids

    @activity.defn(name="cases.open_case")
    async def open_case(self, case: CaseRequest) -> CaseOpening:
        """Open the case from its alerting evaluation, and say where its alert goes."""
        opened = await self.open_rows(case.tenant_id, [case.msg_id], case.service_level_s)
        if case.msg_id not in opened.msg_ids:
            return CaseOpening(opened=False)
        return CaseOpening(opened=True, hand_off=opened.hand_off)

    async def open_rows(
        self, tenant: str, msg_ids: list[str], service_level_s: int | None = None
    ) -> Opened:
        """Open a case for each of these messages whose stored evaluation alerted, due for
        escalation after the service level; returns those messages' ids, whether their case
        was opened now or before, and the tenant's receivers (read in the same statement: a
        tenant without any costs nothing more)."""
        workflow_ids = [case_workflow_id(tenant, msg_id) for msg_id in msg_ids]
        if service_level_s is None:
            service_level_s = int(self.service_level.total_seconds())
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                """WITH alerting AS (
                       SELECT e.tenant_id, e.msg_id, e.evaluation_id, e.tx_type, e.interdicted,
                              m.workflow_id
                       FROM unnest(%s::text[], %s::text[]) AS m(msg_id, workflow_id)
                       JOIN evaluations e ON e.tenant_id = %s AND e.msg_id = m.msg_id
                       WHERE e.status = 'ALRT'
                   ), opened AS (
                       INSERT INTO cases (tenant_id, msg_id, evaluation_id, tx_type, workflow_id,
                                          interdicted, due_at)
                       SELECT tenant_id, msg_id, evaluation_id, tx_type, workflow_id,
                              interdicted, now() + make_interval(secs => %s)
                       FROM alerting
                       ON CONFLICT DO NOTHING
                   )
                   SELECT a.msg_id, h.webhook_url IS NOT NULL AS webhook,
                          h.syslog_host IS NOT NULL AS syslog
                   FROM alerting a LEFT JOIN alert_handoff h ON h.tenant_id = a.tenant_id""",
                (msg_ids, workflow_ids, tenant, service_level_s),
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
        """Nobody decided the case within its service level."""
        await self._escalate(
            case,
            "status = 'escalated', escalated_at = now()",
            "open",
            "no decision within the service level",
        )

    async def _escalate(
        self, case: CaseRequest, change: LiteralString, status: str, why: str
    ) -> None:
        """Apply `change` to the case if it is still in `status`, and record the escalation
        in its trail (once: a retry finds the case changed already)."""
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "UPDATE cases SET "
                + change
                + " WHERE tenant_id = %s AND msg_id = %s AND status = %s",
                (case.tenant_id, case.msg_id, status),
            )
            if cur.rowcount == 1:
                await _append_event(
                    conn, case.tenant_id, case.msg_id, SYSTEM_ACTOR, "system", "escalated", why
                )

    @activity.defn(name="cases.decide")
    async def decide(self, request: DecideCase) -> None:
        """Close the case with the decision (histories recorded before four-eyes)."""
        async with self.pool.connection() as conn, conn.transaction():
            await self._close(conn, request.case, request.decision)

    @activity.defn(name="cases.record_decision")
    async def record_decision(self, request: DecideCase) -> bool:
        """Record the decision: a case whose transaction was interdicted then waits for a
        supervisor's confirmation (True; due for escalation after the service level), any
        other is closed (False)."""
        case, decision = request.case, request.decision
        async with self.pool.connection() as conn, conn.transaction():
            row = await (
                await conn.execute(
                    "SELECT status, interdicted FROM cases "
                    "WHERE tenant_id = %s AND msg_id = %s FOR UPDATE",
                    (case.tenant_id, case.msg_id),
                )
            ).fetchone()
            if row is None or row["status"] == "decided":
                return False
            if not row["interdicted"]:
                await self._close(conn, case, decision)
                return False
            if row["status"] == "awaiting_confirmation":  # a retry: recorded already
                return True
            await conn.execute(
                """UPDATE cases SET status = 'awaiting_confirmation', proposed_outcome = %s,
                       decided_by = %s, note = %s, proposed_at = now(),
                       due_at = now() + make_interval(secs => %s)
                   WHERE tenant_id = %s AND msg_id = %s""",
                (
                    decision.outcome,
                    decision.operator,
                    decision.note,
                    case.service_level_s,
                    case.tenant_id,
                    case.msg_id,
                ),
            )
            await _append_event(
                conn,
                case.tenant_id,
                case.msg_id,
                decision.operator,
                decision.role,
                "decided",
                decision.note,
                {"outcome": decision.outcome, "awaits_confirmation": True},
            )
        return True

    @activity.defn(name="cases.escalate_confirmation")
    async def escalate_confirmation(self, case: CaseRequest) -> None:
        """No supervisor confirmed the decision within the service level."""
        await self._escalate(
            case,
            "escalated_at = coalesce(escalated_at, now())",
            "awaiting_confirmation",
            "no supervisor confirmed the decision within the service level",
        )

    @activity.defn(name="cases.confirm")
    async def confirm(self, request: ConfirmCase) -> None:
        """A supervisor confirmed the decision: the case is decided."""
        case, confirmation = request.case, request.confirmation
        async with self.pool.connection() as conn, conn.transaction():
            closed = await self._close(conn, case, request.decision, confirmation.supervisor)
            if closed:
                await _append_event(
                    conn,
                    case.tenant_id,
                    case.msg_id,
                    confirmation.supervisor,
                    confirmation.role,
                    "confirmed",
                    confirmation.note,
                    {"outcome": request.decision.outcome},
                )
                await conn.execute(
                    """INSERT INTO audit_log (tenant_id, actor, actor_role, action, target,
                           reason, details) VALUES (%s, %s, %s, 'case.confirm', %s, %s, %s)""",
                    (
                        case.tenant_id,
                        confirmation.supervisor,
                        confirmation.role,
                        f"case:{case.msg_id}",
                        confirmation.note,
                        Jsonb({"outcome": request.decision.outcome}),
                    ),
                )

    async def _close(
        self,
        conn: AsyncConnection[Any],
        case: CaseRequest,
        decision: CaseDecision,
        confirmed_by: str | None = None,
    ) -> bool:
        """Decide the case (once); audited. A confirmed case keeps when its decision was
        made, and records who confirmed it."""
        cur = await conn.execute(
            """UPDATE cases SET status = 'decided', outcome = %s, decided_by = %s, note = %s,
                   decided_at = now(), confirmed_by = %s,
                   confirmed_at = CASE WHEN %s::text IS NULL THEN NULL ELSE now() END
               WHERE tenant_id = %s AND msg_id = %s AND status <> 'decided'""",
            (
                decision.outcome,
                decision.operator,
                decision.note,
                confirmed_by,
                confirmed_by,
                case.tenant_id,
                case.msg_id,
            ),
        )
        if cur.rowcount != 1:
            return False
        await conn.execute(
            """INSERT INTO audit_log (tenant_id, actor, actor_role, action, target,
                   reason, details) VALUES (%s, %s, %s, 'case.decide', %s, %s, %s)""",
            (
                case.tenant_id,
                decision.operator,
                decision.role,
                f"case:{case.msg_id}",
                decision.note,
                Jsonb({"outcome": decision.outcome}),
            ),
        )
        if confirmed_by is None:  # a confirmed decision is on the trail since it was made
            await _append_event(
                conn,
                case.tenant_id,
                case.msg_id,
                decision.operator,
                decision.role,
                "decided",
                decision.note,
                {"outcome": decision.outcome},
            )
        return True
