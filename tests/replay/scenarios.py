"""Recording scenarios for the workflow types no quick integration test runs to the end:
the no-op baseline, the nightly reporting run and the history archive itself. Each runs on a
worker with every Saku workflow and real activity, on the session's stack.

Run by tests/replay/record.py (given by path, so pytest collects it); not part of CI."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import redis.asyncio as redis
from temporalio.client import Client

from activities.registry import build_activities
from core.db import Pool
from core.dr.history_archive import ArchiveRequest
from core.reporting import ReportingRequest
from core.settings import Settings
from core.temporal.worker import create_worker
from workflows.history_archive import HistoryArchiveWorkflow
from workflows.noop import NoOpWorkflow
from workflows.registry import ALL_WORKFLOWS
from workflows.reporting import ReportingWorkflow

pytestmark = pytest.mark.integration


async def no_alerts(tenant: str, key: bytes, value: bytes) -> None:
    """Alerts of these runs go nowhere."""


async def test_noop_reporting_and_history_archive_run_to_the_end(
    temporal: Client,
    pool: Pool,
    valkey: redis.Redis,
    task_queue: str,
    stack: Settings,
    tmp_path: Path,
) -> None:
    settings = stack.model_copy(update={"backup_dir": tmp_path})
    worker = create_worker(
        temporal, task_queue, ALL_WORKFLOWS, build_activities(pool, valkey, no_alerts, settings)
    )
    run = uuid.uuid4().hex[:8]
    async with worker:
        assert (
            await temporal.execute_workflow(
                NoOpWorkflow.run, "baseline", id=f"noop-{run}", task_queue=task_queue
            )
            == "baseline"
        )
        summary = await temporal.execute_workflow(
            ReportingWorkflow.run,
            ReportingRequest("manual"),
            id=f"reporting-{run}",
            task_queue=task_queue,
        )
        assert summary.dbt.ok, summary.dbt.failures
        archived = await temporal.execute_workflow(
            HistoryArchiveWorkflow.run,
            ArchiveRequest("manual", settle_s=0),
            id=f"history-archive-{run}",
            task_queue=task_queue,
        )
        assert archived.archived >= 2  # the two above at least
