"""Saku's Temporal schedules, defined once and made to exist (idempotently) at start-up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

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
from core.dr.types import BackupRequest, DrillRequest
from core.reporting import ReportingRequest
from core.settings import Settings

NIGHTLY_REPORTING = "saku-nightly-reporting"
# 02:00 in the schools' time zone: after the canteens close, before anyone reads reports
NIGHTLY_CRON = "0 2 * * *"
NIGHTLY_ZONE = "Asia/Jakarta"
BACKUP = "saku-backup"
RESTORE_DRILL = "saku-restore-drill"
HISTORY_ARCHIVE = "saku-history-archive"
# defaults of SAKU_BACKUP_CRON and SAKU_DRILL_CRON: nightly before the reports; weekly drill
BACKUP_CRON = "0 1 * * *"
DRILL_CRON = "30 3 * * 0"


def _schedule(
    workflow: str, arg: Any, workflow_id: str, task_queue: str, spec: ScheduleSpec
) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(workflow, arg, id=workflow_id, task_queue=task_queue),
        spec=spec,
    )


def _cron(cron: str) -> ScheduleSpec:
    return ScheduleSpec(cron_expressions=[cron], time_zone_name=NIGHTLY_ZONE)


async def ensure_schedules(
    client: Client,
    task_queue: str,
    *,
    backup_cron: str = BACKUP_CRON,
    drill_cron: str = DRILL_CRON,
    archive_every: timedelta = timedelta(hours=1),
) -> list[str]:
    """Create the schedules that are missing and give existing ones the timing asked for (a
    changed setting takes effect at the next start); returns those created or changed."""
    wanted = {
        NIGHTLY_REPORTING: _schedule(
            "Reporting",
            ReportingRequest("schedule"),
            "reporting-nightly",
            task_queue,
            _cron(NIGHTLY_CRON),
        ),
        BACKUP: _schedule(
            "Backup", BackupRequest("schedule"), f"{BACKUP}-run", task_queue, _cron(backup_cron)
        ),
        RESTORE_DRILL: _schedule(
            "RestoreDrill",
            DrillRequest("schedule"),
            f"{RESTORE_DRILL}-run",
            task_queue,
            _cron(drill_cron),
        ),
        HISTORY_ARCHIVE: _schedule(
            HISTORY_ARCHIVE_WORKFLOW,
            ArchiveRequest("schedule"),
            HISTORY_ARCHIVE_ID,
            task_queue,
            ScheduleSpec(intervals=[ScheduleIntervalSpec(every=archive_every)]),
        ),
    }
    return [
        schedule_id
        for schedule_id, schedule in wanted.items()
        if await _create(client, schedule_id, schedule)
        or await _respecify(client, schedule_id, schedule)
    ]


async def ensure_configured_schedules(client: Client, settings: Settings) -> list[str]:
    """`ensure_schedules` with the timings the settings ask for."""
    return await ensure_schedules(
        client,
        settings.task_queue,
        backup_cron=settings.backup_cron,
        drill_cron=settings.drill_cron,
        archive_every=timedelta(minutes=settings.history_archive_every_min),
    )


async def _create(client: Client, schedule_id: str, schedule: Schedule) -> bool:
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:
        return False
    return True


def _timing(spec: ScheduleSpec) -> tuple[list[str], list[timedelta]]:
    return list(spec.cron_expressions), [i.every for i in spec.intervals]


async def _respecify(client: Client, schedule_id: str, schedule: Schedule) -> bool:
    """Give an existing schedule `schedule`'s timing; whether it changed."""
    handle = client.get_schedule_handle(schedule_id)
    current = (await handle.describe()).schedule
    if _timing(current.spec) == _timing(schedule.spec):
        return False

    def update(input: ScheduleUpdateInput) -> ScheduleUpdate:
        input.description.schedule.spec = schedule.spec
        return ScheduleUpdate(schedule=input.description.schedule)

    await handle.update(update)
    return True
