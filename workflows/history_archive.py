"""Closed workflow histories into the archive, and the embedded Temporal server's store
copied, on a schedule (hourly by default) or now (`saku dr archive`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.dr.history_archive import HistoryArchiveActivities
    from core.dr.history_archive import HISTORY_ARCHIVE_WORKFLOW, ArchiveRequest, ArchiveSummary

# a retried run goes on where the last one stopped (the archive keeps its own progress)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_attempts=5)
# a long first run (a namespace's whole retention) reports each day it has done
ARCHIVE_TIMEOUT = timedelta(hours=2)
HEARTBEAT = timedelta(minutes=5)
COPY_TIMEOUT = timedelta(minutes=30)


@workflow.defn(name=HISTORY_ARCHIVE_WORKFLOW)
class HistoryArchiveWorkflow:
    @workflow.run
    async def run(self, request: ArchiveRequest) -> ArchiveSummary:
        summary: ArchiveSummary = await workflow.execute_activity_method(
            HistoryArchiveActivities.archive_histories,
            request,
            start_to_close_timeout=ARCHIVE_TIMEOUT,
            heartbeat_timeout=HEARTBEAT,
            retry_policy=RETRY,
        )
        copied: str | None = await workflow.execute_activity_method(
            HistoryArchiveActivities.copy_temporal_store,
            request,
            start_to_close_timeout=COPY_TIMEOUT,
            retry_policy=RETRY,
        )
        return replace(summary, store_copy=copied)
