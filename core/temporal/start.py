"""Starting one of Saku's workflows, defined once for every starter.

A workflow's id is its business key (a kiosk's transaction id, the bank's message or top-up
id, a case's message id), so starting it again — a retried request, a redelivered record —
finds the first run instead of making a second: a running one is joined, and a finished
one answers with its result (`once`), or may run again (not `once`: an erasure asked for
again). The caller learns whether it found a finished run (`Started.finished`): a
movement's starter then checks that the database still holds what that run did (a restore
may have undone it). Every start carries the search attributes operators filter by, and
none of them personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from core.temporal import search_attributes as sa


@dataclass(frozen=True)
class Labels:
    """What the Temporal UI can find a workflow by (no personal data)."""

    tenant: str | None
    kind: str
    school: str | None = None
    message_id: str | None = None
    message_type: str | None = None

    def attributes(self) -> TypedSearchAttributes:
        pairs: list[SearchAttributePair[str]] = [SearchAttributePair(sa.KIND, self.kind)]
        for key, value in (
            (sa.TENANT, self.tenant),
            (sa.SCHOOL, self.school),
            (sa.MESSAGE_ID, self.message_id),
            (sa.MESSAGE_TYPE, self.message_type),
        ):
            if value is not None:
                pairs.append(SearchAttributePair(key, value))
        return TypedSearchAttributes(pairs)


@dataclass(frozen=True)
class Started:
    """The workflow under the key, and whether it had already finished."""

    handle: WorkflowHandle[Any, Any]
    # True: a run under the id had finished and `once` kept it from running again; its
    # result is the answer (no new run was started)
    finished: bool = False


async def start_by_key(
    client: Client,
    run: Any,
    arg: Any,
    *,
    id: str,
    task_queue: str,
    labels: Labels,
    once: bool = True,
    eager: bool = False,
    start_delay: timedelta | None = None,
    signal: str | None = None,
    signal_args: Sequence[Any] = (),
    memo: dict[str, Any] | None = None,
) -> Started:
    """Start the workflow under `id`, or find the one that has it.

    `eager`: the first task goes straight to a worker in this process (the API has one).
    `signal`: signal-with-start (a running workflow gets the signal; a delayed start's
    first task comes at once)."""
    options: dict[str, Any] = {
        "id": id,
        "task_queue": task_queue,
        "id_reuse_policy": (
            WorkflowIDReusePolicy.REJECT_DUPLICATE
            if once
            else WorkflowIDReusePolicy.ALLOW_DUPLICATE
        ),
        "search_attributes": labels.attributes(),
        "memo": memo,
        "start_delay": start_delay,
        "request_eager_start": eager,
    }
    if signal is None:
        options["id_conflict_policy"] = WorkflowIDConflictPolicy.USE_EXISTING
    else:
        options |= {"start_signal": signal, "start_signal_args": list(signal_args)}
    try:
        return Started(await client.start_workflow(run, arg, **options))
    except WorkflowAlreadyStartedError:
        if signal is not None:  # a finished workflow takes no signal: the caller says why
            raise
        # finished before, and `once`: that run stands, and its result is the answer
        if isinstance(run, str):
            return Started(client.get_workflow_handle(id), finished=True)
        return Started(client.get_workflow_handle_for(run, id), finished=True)
