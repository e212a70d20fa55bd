"""Retry and timeout policies the workflows share."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

# Storage outages are retried for minutes, not forever: a workflow always finishes, and a
# failed one is visible in the UI with its error.
RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=20)
