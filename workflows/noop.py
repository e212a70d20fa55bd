"""A workflow that does nothing: the benchmarks' baseline for Temporal's own overhead."""

from __future__ import annotations

from temporalio import workflow


# Unsandboxed, as the evaluation workflows are, so the baseline measures the same overhead
@workflow.defn(name="NoOp", sandboxed=False)
class NoOpWorkflow:
    @workflow.run
    async def run(self, payload: str) -> str:
        return payload
