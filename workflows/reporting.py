"""The nightly reporting run: dbt build (models, snapshots and their tests) -> the Great
Expectations checkpoint -> retention (archive, then purge) -> a summary. Started by a
Temporal schedule, or now by `saku reports build`. Bad data is not acted on: a failed
checkpoint is an alert naming the tenants whose data failed, and their rows stay where they
are while every other tenant's retention goes ahead; if the build fails, or a failure cannot
be pinned on a tenant, nothing is purged."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.reporting.steps import ReportingActivities
    from core.reporting import (
        DbtSummary,
        QualityVerdict,
        ReportingRequest,
        ReportingSummary,
        RetentionCounts,
        RetentionRequest,
    )


RETRY = RetryPolicy(maximum_attempts=3)
STEP_TIMEOUT = timedelta(minutes=30)


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
        dbt: DbtSummary = await workflow.execute_activity_method(
            ReportingActivities.dbt_build,
            request,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=RETRY,
        )
        counts = ", ".join(f"{k} {v}" for k, v in sorted(dbt.counts.items()))
        self._steps.append(
            f"dbt build: {'ok' if dbt.ok else 'FAILED'} in {dbt.seconds} s ({counts})"
        )
        quality: QualityVerdict | None = None
        if dbt.ok:
            self._steps.append("quality checks: started")
            quality = await workflow.execute_activity_method(
                ReportingActivities.check_quality,
                request,
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=RETRY,
            )
            verdict = "ok" if quality.ok else f"FAILED ({len(quality.failures)}), alert raised"
            self._steps.append(f"quality checks: {quality.checked} expectations, {verdict}")
        retention: list[RetentionCounts] = []
        if quality is None:
            self._steps.append("retention: skipped (the build failed)")
        elif quality.purge_held_for_all:
            self._steps.append(
                "retention: skipped (a quality check failed without naming a tenant)"
            )
        else:
            held = quality.failing_tenants
            if held:
                self._steps.append(
                    f"retention: held for tenant {', '.join(held)} (their data failed the "
                    "quality checks; see data_quality_alerts)"
                )
            self._steps.append("retention: started")
            retention = await workflow.execute_activity_method(
                ReportingActivities.apply_retention,
                RetentionRequest(request.trigger, held),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=RETRY,
            )
            moved = ", ".join(f"{r.data_class} {r.archived}/{r.purged}" for r in retention)
            self._steps.append(f"retention: archived/purged {moved}")
        return ReportingSummary(dbt, quality, retention, list(self._steps))
