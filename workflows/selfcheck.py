"""Self-check: proves that the consumer, the worker and both stores work together."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.selfcheck import SelfCheckActivities
    from core.selfcheck import SelfCheckRequest, SelfCheckResult
    from core.temporal import search_attributes


@workflow.defn(name="SelfCheck")
class SelfCheckWorkflow:
    @workflow.run
    async def run(self, request: SelfCheckRequest) -> SelfCheckResult:
        workflow.upsert_search_attributes([search_attributes.KIND.value_set("selfcheck")])
        workflow.logger.info("self-check started")
        return await workflow.execute_activity_method(
            SelfCheckActivities.record, request, start_to_close_timeout=timedelta(seconds=10)
        )
