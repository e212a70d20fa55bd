"""Retry and timeout policies the workflows share, and how a step changes the way it runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

# Storage outages are retried for minutes, not forever: a workflow always finishes, and a
# failed one is visible in the UI with its error.
RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=20)


def moved_to_local(patch_id: str) -> Callable[..., Any]:
    """How to run a step that became a local activity: locally in new runs, and as the regular
    activity in histories recorded before the change (`workflow.patched`), so they replay."""
    if workflow.patched(patch_id):
        return workflow.execute_local_activity_method
    return workflow.execute_activity_method
