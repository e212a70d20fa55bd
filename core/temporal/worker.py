"""How Saku builds a Temporal worker, defined once (the `saku worker` command and tests use it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.worker import Replayer, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from core.temporal.codec import data_converter
from core.temporal.interceptors import CorrelationInterceptor

# Saku's shared package holds only pure types and constants on the workflow path; passing it
# through the sandbox keeps each workflow run from re-importing it (and the 2 s deadlock
# detector quiet).
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("core")
)


def create_worker(
    client: Client,
    task_queue: str,
    workflows: Sequence[type],
    activities: Sequence[Callable[..., Any]],
    *,
    max_concurrent_activities: int = 200,
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=workflows,
        activities=activities,
        workflow_runner=WORKFLOW_RUNNER,
        max_concurrent_activities=max_concurrent_activities,
    )


def create_replayer(workflows: Sequence[type], converter: DataConverter | None = None) -> Replayer:
    """A replayer of recorded histories that runs workflow code as Saku's worker does: the
    same sandbox, data converter and interceptors (a worker takes them from its client).
    Without a converter it replays histories kept in plaintext (the committed corpus)."""
    return Replayer(
        workflows=workflows,
        workflow_runner=WORKFLOW_RUNNER,
        data_converter=converter or data_converter(None),
        interceptors=[CorrelationInterceptor()],
    )
