"""Saku's Temporal schedules, defined once and made to exist (idempotently) at start-up."""

from __future__ import annotations

from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from core.dr.types import BackupRequest, DrillRequest
from core.reporting import ReportingRequest

NIGHTLY_REPORTING = "saku-nightly-reporting"
# 02:00 in the schools' time zone: after the canteens close, before anyone reads reports
NIGHTLY_CRON = "0 2 * * *"
NIGHTLY_ZONE = "Asia/Jakarta"
BACKUP = "saku-backup"
RESTORE_DRILL = "saku-restore-drill"
# defaults of SAKU_BACKUP_CRON and SAKU_DRILL_CRON: nightly before the reports; weekly drill
BACKUP_CRON = "0 1 * * *"
DRILL_CRON = "30 3 * * 0"


async def _ensure(
    client: Client, schedule_id: str, workflow: str, arg: Any, cron: str, task_queue: str
) -> bool:
    """Create the schedule, or bring an existing one's time in line with `cron` (a changed
    setting takes effect at the next start); True when created."""
    spec = ScheduleSpec(cron_expressions=[cron], time_zone_name=NIGHTLY_ZONE)
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            workflow, arg, id=f"{schedule_id}-run", task_queue=task_queue
        ),
        spec=spec,
    )
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:
        handle = client.get_schedule_handle(schedule_id)
        current = (await handle.describe()).schedule.spec.cron_expressions

        def retime(update: ScheduleUpdateInput) -> ScheduleUpdate:
            update.description.schedule.spec = spec
            return ScheduleUpdate(schedule=update.description.schedule)

        if list(current) != [cron]:
            await handle.update(retime)
        return False
    return True


async def ensure_schedules(
    client: Client,
    task_queue: str,
    *,
    backup_cron: str = BACKUP_CRON,
    drill_cron: str = DRILL_CRON,
) -> list[str]:
    """Create the schedules that are missing; returns those created."""
    created = []
    for schedule_id, workflow, arg, cron in (
        (NIGHTLY_REPORTING, "Reporting", ReportingRequest("schedule"), NIGHTLY_CRON),
        (BACKUP, "Backup", BackupRequest("schedule"), backup_cron),
        (RESTORE_DRILL, "RestoreDrill", DrillRequest("schedule"), drill_cron),
    ):
        if await _ensure(client, schedule_id, workflow, arg, cron, task_queue):
            created.append(schedule_id)
    return created
