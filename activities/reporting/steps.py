"""The reporting workflow's side effects."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

from psycopg.types.json import Jsonb
from temporalio import activity

from activities.monitoring.alerts import AlertPublisher
from activities.reporting.dbt import run_dbt, target_dir
from activities.reporting.quality import run_checks
from activities.reporting.retention import Retention
from core.db import Pool
from core.reporting import (
    DbtSummary,
    QualityVerdict,
    ReportingRequest,
    RetentionCounts,
    RetentionRequest,
)
from core.settings import Settings


class ReportingActivities:
    def __init__(self, pool: Pool, settings: Settings, publish_alert: AlertPublisher) -> None:
        self.pool = pool
        self.settings = settings
        self.retention = Retention(pool)
        self.publish_alert = publish_alert

    @activity.defn(name="reporting.check_quality")
    async def check_quality(self, request: ReportingRequest) -> QualityVerdict:
        """The Great Expectations checkpoint; a failure is an alert (stored, published) that
        names the failing tenants, whose purge is then held."""
        report = await asyncio.to_thread(run_checks, self.settings)
        verdict = QualityVerdict(
            report.ok,
            report.checked,
            report.failures,
            report.failing_tenants,
            report.unattributed,
        )
        if not verdict.ok:
            async with self.pool.connection() as conn:
                row = await (
                    await conn.execute(
                        "INSERT INTO data_quality_alerts (failures, tenants, purge_held_for_all)"
                        " VALUES (%s, %s, %s) RETURNING id",
                        (
                            Jsonb(verdict.failures),
                            verdict.failing_tenants,
                            verdict.purge_held_for_all,
                        ),
                    )
                ).fetchone()
            assert row is not None
            alert = {
                "type": "data_quality",
                "alertId": row["id"],
                "failures": verdict.failures,
                "tenants": verdict.failing_tenants,
                "purgeHeldForAll": verdict.purge_held_for_all,
            }
            await self.publish_alert(
                "saku", f"data-quality:{row['id']}".encode(), json.dumps(alert).encode()
            )
        return verdict

    @activity.defn(name="reporting.apply_retention")
    async def apply_retention(self, request: RetentionRequest) -> list[RetentionCounts]:
        """Archive, then purge, what is past retention (the ledger and audit: archive only),
        except the held tenants' rows."""
        done = await self.retention.apply(held_tenants=request.held_tenants)
        return [RetentionCounts(r.data_class, r.archived, r.purged) for r in done]

    @activity.defn(name="reporting.dbt_build")
    async def dbt_build(self, request: ReportingRequest) -> DbtSummary:
        """Snapshots, models and dbt's own tests, in dependency order."""
        started = time.monotonic()
        run = await asyncio.to_thread(run_dbt, self.settings, "build")
        results = target_dir(self.settings) / "run_results.json"
        counts: Counter[str] = Counter()
        failures: list[str] = []
        if results.exists():
            for node in json.loads(results.read_text()).get("results", []):
                counts[node["status"]] += 1
                if node["status"] in ("error", "fail"):
                    failures.append(node["unique_id"])
        if not run.ok and not failures:
            failures.append(run.tail(5))  # dbt failed before running anything: say why
        return DbtSummary(run.ok, round(time.monotonic() - started, 1), dict(counts), failures)
