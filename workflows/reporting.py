"""The nightly reporting run: dbt build (models, snapshots and their tests) -> the Great
Expectations checkpoint -> retention (archive, then purge) -> a summary. Started by a
Temporal schedule, or now by `saku reports build`. If the build or the checkpoint fails,
nothing is purged: bad data is not acted on (a failed checkpoint is an alert)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from saku.domain.reporting import (
        APPLY_RETENTION,
        CHECK_QUALITY,
        DBT_BUILD,
        DbtSummary,
        QualityVerdict,
        ReportingRequest,
        ReportingSummary,
        RetentionCounts,
    )


RETRY = RetryPolicy(maximum_attempts=3)


@workflow.defn(name="Reporting")
class ReportingWorkflow:
    def __init__(self) -> None:
        self._steps: list[str] = []

    @workflow.query
    def progress(self) -> list[str]:
        return list(self._steps)

    @workflow.run
    async def run(self, request: ReportingRequest) -> ReportingSummary:
        self._steps.append("dbt build: started")
        dbt: DbtSummary = await workflow.execute_activity(
            DBT_BUILD, request, result_type=DbtSummary,
            start_to_close_timeout=timedelta(minutes=30), retry_policy=RETRY,
        )  # fmt: skip
        counts = ", ".join(f"{k} {v}" for k, v in sorted(dbt.counts.items()))
        self._steps.append(
            f"dbt build: {'ok' if dbt.ok else 'FAILED'} in {dbt.seconds} s ({counts})"
        )
        quality: QualityVerdict | None = None
        if dbt.ok:
            self._steps.append("quality checks: started")
            quality = await workflow.execute_activity(
                CHECK_QUALITY, request, result_type=QualityVerdict,
                start_to_close_timeout=timedelta(minutes=30), retry_policy=RETRY,
            )  # fmt: skip
            verdict = "ok" if quality.ok else f"FAILED ({len(quality.failures)}), alert raised"
            self._steps.append(f"quality checks: {quality.checked} expectations, {verdict}")
        retention: list[RetentionCounts] = []
        if quality is None or not quality.ok:
            self._steps.append("retention: skipped (the build or the quality checks failed)")
        else:
            self._steps.append("retention: started")
            retention = await workflow.execute_activity(
                APPLY_RETENTION, request, result_type=list[RetentionCounts],
                start_to_close_timeout=timedelta(minutes=30), retry_policy=RETRY,
            )  # fmt: skip
            moved = ", ".join(f"{r.data_class} {r.archived}/{r.purged}" for r in retention)
            self._steps.append(f"retention: archived/purged {moved}")
        return ReportingSummary(dbt, quality, retention, list(self._steps))
