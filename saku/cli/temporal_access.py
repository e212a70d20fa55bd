"""What the commands that start a workflow and wait for it need first: Temporal reachable,
Saku's schedules in place, and a worker polling the task queue (without one the workflow
would only wait)."""

from __future__ import annotations

from temporalio.client import Client

from core.settings import Settings
from saku.stack.process import StackError

START_A_WORKER = "start `saku worker` (or everything with `saku up`)"


async def client_with_worker(settings: Settings) -> Client:
    """A Temporal client, once the schedules exist and a worker polls; StackError saying
    what to start otherwise."""
    from core.temporal.client import connect, workflow_pollers
    from core.temporal.schedules import ensure_configured_schedules

    try:
        client = await connect(settings)
    except RuntimeError as err:
        raise StackError(
            f"Temporal is not reachable at {settings.resolved_temporal_address()} ({err}): "
            "start the stack with `saku stack up` or `saku up`"
        ) from None
    await ensure_configured_schedules(client, settings)
    if not await workflow_pollers(client, settings.task_queue):
        raise StackError(
            f"no worker is polling the task queue {settings.task_queue!r}: {START_A_WORKER}, "
            "then run this again"
        )
    return client
