"""Retry and timeout policies the workflows share, and how a step changes the way it runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from core.temporal import search_attributes as sa

# Storage outages are retried for minutes, not forever: a workflow always finishes, and a
# failed one is visible in the UI with its error.
RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=20)


def moved_to_local(patch_id: str) -> Callable[..., Any]:
    """How to run a step that became a local activity: locally in new runs, and as the regular
    activity in histories recorded before the change (`workflow.patched`), so they replay."""
    if workflow.patched(patch_id):
        return workflow.execute_local_activity_method
    return workflow.execute_activity_method


def search_by_status(status: str, *labels: SearchAttributeUpdate[Any]) -> None:
    """The workflow's SakuStatus becomes `status`: where it stands, what operators filter by
    in the Temporal UI ("the escalated cases"), with `labels` (for a workflow started without
    them). Histories recorded before workflows set it replay without it (`workflow.patched`)."""
    if workflow.patched("status-search-attributes"):
        workflow.upsert_search_attributes([sa.STATUS.value_set(status), *labels])
