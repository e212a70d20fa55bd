"""Saku's Temporal schedules, defined once and made to exist (idempotently) at start-up."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from core.dr.history_archive import HISTORY_ARCHIVE_ID, HISTORY_ARCHIVE_WORKFLOW, ArchiveRequest
from core.reporting import ReportingRequest

NIGHTLY_REPORTING = "saku-nightly-reporting"
# 02:00 in the schools' time zone: after the canteens close, before anyone reads reports
NIGHTLY_CRON = "0 2 * * *"
NIGHTLY_ZONE = "Asia/Jakarta"
HISTORY_ARCHIVE = "saku-history-archive"


async def ensure_schedules(
    client: Client, task_queue: str, *, archive_every: timedelta = timedelta(hours=1)
) -> list[str]:
    """Create the schedules that are missing, and give the history archive's the interval
    asked for; returns those created or changed."""
    reporting = Schedule(
        action=ScheduleActionStartWorkflow(
            "Reporting",
            ReportingRequest("schedule"),
            id="reporting-nightly",
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(cron_expressions=[NIGHTLY_CRON], time_zone_name=NIGHTLY_ZONE),
    )
    archive = Schedule(
        action=ScheduleActionStartWorkflow(
            HISTORY_ARCHIVE_WORKFLOW,
            ArchiveRequest("schedule"),
            id=HISTORY_ARCHIVE_ID,
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=archive_every)]),
    )
    changed = []
    if await _create(client, NIGHTLY_REPORTING, reporting):
        changed.append(NIGHTLY_REPORTING)
    if await _create(client, HISTORY_ARCHIVE, archive) or await _respecify(
        client, HISTORY_ARCHIVE, archive
    ):
        changed.append(HISTORY_ARCHIVE)
    return changed


async def _create(client: Client, schedule_id: str, schedule: Schedule) -> bool:
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:
        return False
    return True


async def _respecify(client: Client, schedule_id: str, schedule: Schedule) -> bool:
    """Give an existing schedule `schedule`'s timing (a changed setting); whether it changed."""
    handle = client.get_schedule_handle(schedule_id)
    current = (await handle.describe()).schedule
    if [i.every for i in current.spec.intervals] == [i.every for i in schedule.spec.intervals]:
        return False

    def update(input: ScheduleUpdateInput) -> ScheduleUpdate:
        input.description.schedule.spec = schedule.spec
        return ScheduleUpdate(schedule=input.description.schedule)

    await handle.update(update)
    return True
