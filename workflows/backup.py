"""A base backup: pg_basebackup, verified against its manifest and recorded, then retention.
Started nightly by the `saku-backup` schedule, or now by `saku dr backup`."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.dr.steps import DrActivities
    from core.dr.types import BackupOutcome, BackupRecord, BackupRequest


@workflow.defn(name="Backup")
class BackupWorkflow:
    @workflow.run
    async def run(self, request: BackupRequest) -> BackupOutcome:
        record: BackupRecord = await workflow.execute_activity_method(
            DrActivities.take_backup,
            request,
            start_to_close_timeout=timedelta(hours=6),
            # a failed copy is removed and taken again; a refusal (archiving off) repeats
            retry_policy=RetryPolicy(maximum_attempts=3, non_retryable_error_types=["BackupError"]),
        )
        return await workflow.execute_activity_method(
            DrActivities.prune_backups,
            record,
            start_to_close_timeout=timedelta(minutes=30),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
