"""The Backup and RestoreDrill workflows' side effects."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

from psycopg.types.json import Jsonb
from temporalio import activity

from activities.biometrics.keyring import KeyRing
from activities.dr import basebackup, drill
from core.db import Pool
from core.dr.types import BackupOutcome, BackupRecord, BackupRequest, DrillReport, DrillRequest
from core.settings import Settings


class DrActivities:
    def __init__(self, pool: Pool, settings: Settings, keyring: KeyRing) -> None:
        self.pool = pool
        self.settings = settings
        self.keyring = keyring

    @activity.defn(name="dr.take_backup")
    async def take_backup(self, request: BackupRequest) -> BackupRecord:
        """pg_basebackup, verified against its manifest, in the catalogue and dr_backups."""
        record = await asyncio.to_thread(basebackup.take, self.settings, request.trigger)
        fields = dataclasses.asdict(record)
        columns = ", ".join(fields)
        async with self.pool.connection() as conn:
            await conn.execute(
                f"INSERT INTO dr_backups ({columns}) VALUES "  # our own column names
                f"({', '.join(['%s'] * len(fields))}) ON CONFLICT (id) DO NOTHING",
                list(fields.values()),
            )
        return record

    @activity.defn(name="dr.prune_backups")
    async def prune_backups(self, record: BackupRecord) -> BackupOutcome:
        """Retention: the oldest backups beyond SAKU_BACKUP_KEEP (never the newest verified
        one), and the WAL no kept backup needs."""
        pruned, wal_removed = await asyncio.to_thread(basebackup.prune, self.settings)
        if pruned:
            async with self.pool.connection() as conn:
                await conn.execute(
                    "UPDATE dr_backups SET pruned_at = now() WHERE id = ANY(%s)", (pruned,)
                )
        return BackupOutcome(record, pruned, wal_removed)

    @activity.defn(name="dr.run_drill")
    async def run_drill(self, request: DrillRequest) -> DrillReport:
        """Restore the newest backup into a scratch instance, check it, remove it, and keep
        the figures in dr_drills."""
        started = datetime.now(UTC)
        report = await drill.run(self.settings, self.pool, self.keyring)
        figures = (
            started,
            request.trigger,
            report.backup_id,
            report.restore_point,
            report.rpo_ms,
            report.rto_s,
            report.ok,
            report.migrations_equal,
            report.ledger_ok,
            report.tables_equal,
            len(report.tables),
            report.erased_students_checked,
            len(report.erased_students_decrypting),
            report.failure,
            Jsonb(report.lines()),
        )
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    """INSERT INTO dr_drills (started_at, trigger, backup_id, restore_point,
                           rpo_ms, rto_s, ok, migrations_equal, ledger_ok, tables_equal,
                           tables_compared, erased_students_checked, erased_still_decrypting,
                           failure, report)
                       VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                       RETURNING id""",
                    figures,
                )
            ).fetchone()
        assert row is not None
        return dataclasses.replace(report, drill_id=row["id"])
