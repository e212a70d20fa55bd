"""Saku's Temporal schedules, defined once and made to exist (idempotently) at start-up."""

from __future__ import annotations

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleSpec,
)

from core.reporting import ReportingRequest

NIGHTLY_REPORTING = "saku-nightly-reporting"
# 02:00 in the schools' time zone: after the canteens close, before anyone reads reports
NIGHTLY_CRON = "0 2 * * *"
NIGHTLY_ZONE = "Asia/Jakarta"


async def ensure_schedules(client: Client, task_queue: str) -> list[str]:
    """Create the schedules that are missing; returns those created."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            "Reporting",
            ReportingRequest("schedule"),
            id="reporting-nightly",
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(cron_expressions=[NIGHTLY_CRON], time_zone_name=NIGHTLY_ZONE),
    )
    try:
        await client.create_schedule(NIGHTLY_REPORTING, schedule)
    except ScheduleAlreadyRunningError:
        return []
    return [NIGHTLY_REPORTING]
