"""One intake behaviour for both channels (HTTP and Kafka): accept, then hand on.

`Intake.submit` stores a batch of validated messages (idempotent by tenant and message id)
and starts evaluation for those that trigger it, returning a reference for each. A message
seen before is not stored again; if it triggers evaluation it gets the reference of its
existing evaluation, and an evaluation interrupted by a crash is started again, under the
same workflow id, so it happens once in effect.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from temporalio.client import Client

from activities.monitoring.history import HistoryStore, Incoming
from activities.monitoring.offsets import StreamPosition
from core.db import Pool
from core.monitoring.transactions import TxType
from core.monitoring.types import EvaluationRequest
from core.temporal.start import Labels, start_by_key
from workflows.evaluation import EvaluateBatchWorkflow, EvaluateTransactionWorkflow


def transaction_workflow_id(tenant: str, msg_id: str) -> str:
    return f"evaluation-{tenant}-{msg_id}"


def batch_workflow_id(tenant: str, msg_ids: Sequence[str]) -> str:
    digest = hashlib.sha256("\n".join(msg_ids).encode()).hexdigest()[:16]
    return f"evaluation-batch-{tenant}-{digest}"


@dataclass(frozen=True)
class Receipt:
    msg_id: str
    outcome: Literal["accepted", "duplicate", "conflict", "rejected"]
    workflow_id: str | None = None  # the evaluation's workflow, when the message triggers one
    reason: str = ""


class Intake:
    def __init__(self, pool: Pool, history: HistoryStore, client: Client, task_queue: str) -> None:
        self.pool = pool
        self.history = history
        self.client = client
        self.task_queue = task_queue

    async def submit(
        self,
        batch: Sequence[Incoming],
        *,
        micro_batch: bool = False,
        position: StreamPosition | None = None,
    ) -> list[Receipt]:
        """Accept a batch of one tenant's messages; evaluate each trigger in its own workflow,
        or (micro_batch) all of them in one batch workflow that carries references. A Kafka
        batch's `position` is recorded with the history (see HistoryStore.accept)."""
        if not batch:
            return []
        tenant = batch[0].tx.tenant_id
        result = await self.history.accept(batch, position=position)
        receipts: dict[int, Receipt] = {}
        for message, reason in result.rejected:
            receipts[id(message)] = Receipt(message.tx.msg_id, "rejected", reason=reason)
        for message in result.conflicts:
            receipts[id(message)] = Receipt(
                message.tx.msg_id,
                "conflict",
                reason=(
                    f"MsgId {message.tx.msg_id!r} was already received with different "
                    "content; a corrected message needs a new MsgId"
                ),
            )
        duplicate_triggers = [
            m.tx.msg_id for m in result.duplicates if m.tx.tx_type in TxType.TRIGGERS
        ]
        evaluated = await self._evaluated_by(tenant, duplicate_triggers)
        to_start = [t.msg_id for t in result.new if t.tx_type in TxType.TRIGGERS]
        to_start += [m for m in duplicate_triggers if m not in evaluated]
        to_start = list(dict.fromkeys(to_start))
        types = {m.tx.msg_id: m.tx.tx_type for m in batch}
        started = await self._start(tenant, to_start, types, micro_batch=micro_batch)
        duplicates = {id(m) for m in result.duplicates}
        for message in batch:
            if id(message) in receipts:
                continue
            msg_id = message.tx.msg_id
            outcome: Literal["accepted", "duplicate"] = (
                "duplicate" if id(message) in duplicates else "accepted"
            )
            workflow_id = started.get(msg_id) or evaluated.get(msg_id)
            receipts[id(message)] = Receipt(msg_id, outcome, workflow_id)
        return [receipts[id(m)] for m in batch]

    async def evaluate_again(
        self, tenant: str, msg_ids: list[str], types: dict[str, str]
    ) -> dict[str, str]:
        """Start the evaluation of messages stored before and never evaluated (a restore
        lost it): one batch workflow for several. Returns each one's workflow id."""
        return await self._start(tenant, msg_ids, types, micro_batch=True)

    async def _evaluated_by(self, tenant: str, msg_ids: list[str]) -> dict[str, str]:
        if not msg_ids:
            return {}
        async with self.pool.connection() as conn:
            # a probe per id (see history._BY_KEY for why not `= ANY`)
            cur = await conn.execute(
                """SELECT e.* FROM unnest(%s::text[]) AS m(msg_id)
                   CROSS JOIN LATERAL (SELECT msg_id, workflow_id FROM evaluations
                                       WHERE tenant_id = %s AND msg_id = m.msg_id
                                       LIMIT 1) AS e""",
                (msg_ids, tenant),
            )
            return {r["msg_id"]: r["workflow_id"] for r in await cur.fetchall()}

    async def _start(
        self, tenant: str, msg_ids: list[str], types: dict[str, str], *, micro_batch: bool
    ) -> dict[str, str]:
        if not msg_ids:
            return {}
        if micro_batch and len(msg_ids) > 1:
            workflow_id = batch_workflow_id(tenant, msg_ids)
            await start_by_key(
                self.client,
                EvaluateBatchWorkflow.run,
                EvaluationRequest(tenant, msg_ids),
                id=workflow_id,
                task_queue=self.task_queue,
                labels=Labels(tenant, "evaluation-batch"),
                once=False,
            )
            return dict.fromkeys(msg_ids, workflow_id)
        started = {}
        for msg_id in msg_ids:
            workflow_id = transaction_workflow_id(tenant, msg_id)
            # A redelivery joins the first delivery's workflow while it runs. Only messages
            # with no evaluation in this database get here, so a finished run is run again:
            # its evaluation was lost with a restore (the store keeps one per message).
            await start_by_key(
                self.client,
                EvaluateTransactionWorkflow.run,
                EvaluationRequest(tenant, [msg_id]),
                id=workflow_id,
                task_queue=self.task_queue,
                labels=Labels(tenant, "evaluation", message_id=msg_id, message_type=types[msg_id]),
                eager=True,  # taken up by a worker in this process if there is one (the API's)
                once=False,
            )
            started[msg_id] = workflow_id
        return started
