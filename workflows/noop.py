"""A workflow that does nothing: the benchmarks' baseline for Temporal's own overhead."""

from __future__ import annotations

from temporalio import workflow


@workflow.defn(name="NoOp")
class NoOpWorkflow:
    @workflow.run
    async def run(self, payload: str) -> str:
        return payload
