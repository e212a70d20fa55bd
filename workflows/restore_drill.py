"""The restore drill: the newest backup restored into a scratch PostgreSQL and checked
against the live database, its RPO and RTO measured and stored. Started by the
`saku-restore-drill` schedule, or now by `saku dr drill`."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.dr.steps import DrActivities
    from core.dr.types import DrillReport, DrillRequest


@workflow.defn(name="RestoreDrill")
class RestoreDrillWorkflow:
    @workflow.run
    async def run(self, request: DrillRequest) -> DrillReport:
        # one attempt: a failed drill is a finding to report, not something to retry away
        return await workflow.execute_activity_method(
            DrActivities.run_drill,
            request,
            start_to_close_timeout=timedelta(hours=2),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
