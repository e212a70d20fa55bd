"""The restore drill: while Saku keeps serving, the newest backup and the archived WAL are
restored into a scratch PostgreSQL, the copy is checked against the live database, and the
scratch instance is removed. Measures RPO (the live database's last commit against the last
commit present in the copy) and RTO (drill start until the copy answers read-write)."""

from __future__ import annotations

import asyncio
import shutil
import time
from datetime import datetime
from typing import Any

from psycopg import sql

from activities.biometrics.keyring import KeyRing
from activities.biometrics.vault import TemplateVault, VaultError
from activities.dr.restore import RestoreError, restore
from activities.wallet.ledger import Ledger
from core.db import Pool, create_pool
from core.dr.layout import histories_dir
from core.dr.types import DrillReport, TableCheck
from core.settings import Settings

# Tables that only ever grow: a row in one of them committed before the restore point must
# be in the copy exactly as it is on the live database (a row changed in place since, on
# the live side, shows as a difference: in these tables nothing may change a row).
COMPARED = ("postings", "ledger_entries", "evaluations", "audit_log")

# Rows committed at or before the restore point. A row's commit time is its inserting
# transaction's (track_commit_timestamp); rows older than the tracking have none and are
# older than any restore point. Row order does not matter: the checksum sorts.
_TABLE_SUMMARY = """
    SELECT count(*) AS n,
           coalesce(md5(string_agg(h, '' ORDER BY h)), '') AS checksum
    FROM (SELECT md5(t::text) AS h FROM {table} AS t
          WHERE coalesce(pg_xact_commit_timestamp(t.xmin) <= %s, true)) AS rows
"""


async def last_commit(pool: Pool) -> datetime | None:
    async with pool.connection() as conn:
        row = await (
            await conn.execute("SELECT (pg_last_committed_xact()).timestamp AS at")
        ).fetchone()
    return row["at"] if row else None


# The copy's last commit when its recovery replayed none after the base backup (then
# PostgreSQL logs no last transaction): the newest commit time among the last thousand
# transaction ids it knows (ids below 3 are special and have none).
_LAST_COMMIT_IN_COPY = """
    SELECT max(pg_xact_commit_timestamp((x % 4294967296)::text::xid)) AS at
    FROM (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint - g AS x
          FROM generate_series(1, 1000) AS g) AS ids
    WHERE x % 4294967296 >= 3
"""


async def last_commit_in_copy(copy: Pool) -> datetime | None:
    async with copy.connection() as conn:
        row = await (await conn.execute(_LAST_COMMIT_IN_COPY)).fetchone()
    return row["at"] if row else None


async def summarise(pool: Pool, table: str, point: datetime) -> tuple[int, str]:
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                sql.SQL(_TABLE_SUMMARY).format(table=sql.Identifier(table)), (point,)
            )
        ).fetchone()
    assert row is not None
    return int(row["n"]), str(row["checksum"])


async def migrations(pool: Pool) -> list[tuple[Any, ...]]:
    async with pool.connection() as conn:
        rows = await (
            await conn.execute("SELECT version, name, checksum FROM schema_migrations ORDER BY 1")
        ).fetchall()
    return [tuple(r.values()) for r in rows]


async def erased_still_decrypting(restored: Pool, keyring: KeyRing) -> tuple[int, list[str]]:
    """Every student whose keys the restored copy says were shredded (their erasure is in
    its audit log, and no data key was made since): their templates must not open."""
    vault = TemplateVault(restored, keyring)
    async with restored.connection() as conn:
        erasures = await (
            await conn.execute(
                """SELECT a.tenant_id, substr(a.target, 9) AS student, max(a.at) AS at
                   FROM audit_log a WHERE a.action = 'biometric.erase'
                   GROUP BY 1, 2"""
            )
        ).fetchall()
        rekeyed = {
            (r["tenant_id"], r["student_id"]): r["created_at"]
            for r in await (
                await conn.execute(
                    "SELECT tenant_id, student_id, created_at FROM biometric_data_keys"
                )
            ).fetchall()
        }
    checked, opening = 0, []
    for erasure in erasures:
        key = (erasure["tenant_id"], erasure["student"])
        if key in rekeyed and rekeyed[key] > erasure["at"]:
            continue  # enrolled again after the erasure, with new consent and a new key
        checked += 1
        for finger in range(1, 11):
            try:
                await vault.open(erasure["tenant_id"], erasure["student"], finger)
            except VaultError:
                continue
            opening.append(f"{erasure['tenant_id']}/{erasure['student']} finger {finger}")
    return checked, opening


def histories_line(settings: Settings) -> str:
    """The workflow-history replay's line of the report (the replay fills it in)."""
    if not histories_dir(settings).exists():
        return "histories replayed: not run"
    return "histories replayed: not run here (`saku dr drill` replays the archive)"


async def run(settings: Settings, live: Pool, keyring: KeyRing) -> DrillReport:
    began = time.monotonic()
    try:
        restored = await asyncio.to_thread(restore, settings, to=None)
    except RestoreError as err:
        return DrillReport(
            ok=False,
            backup_id=None,
            restore_point=None,
            rpo_ms=None,
            rto_s=None,
            migrations_equal=False,
            ledger_ok=False,
            ledger_problems=[],
            tables=[],
            erased_students_checked=0,
            erased_students_decrypting=[],
            histories=histories_line(settings),
            failure=str(err),
        )
    rto_s = time.monotonic() - began
    try:
        async with create_pool(restored.url, max_size=2) as copy:
            point = restored.last_transaction or await last_commit_in_copy(copy)
            live_last = await last_commit(live)
            rpo_ms = (
                max(0, round((live_last - point).total_seconds() * 1000))
                if point is not None and live_last is not None
                else None
            )
            same_migrations = await migrations(live) == await migrations(copy)
            ledger = await Ledger(copy).verify()
            tables = []
            if point is not None:
                for table in COMPARED:
                    live_n, live_sum = await summarise(live, table, point)
                    copy_n, copy_sum = await summarise(copy, table, point)
                    tables.append(TableCheck(table, live_n, copy_n, live_sum, copy_sum))
            checked, opening = await erased_still_decrypting(copy, keyring)
    finally:
        await asyncio.to_thread(restored.instance.stop)
        shutil.rmtree(restored.instance.data_dir, ignore_errors=True)
        restored.instance.log_file.unlink(missing_ok=True)
    failure = None if point is not None else "the restore's log names no last transaction"
    ok = (
        failure is None
        and same_migrations
        and ledger.ok
        and len(tables) == len(COMPARED)
        and all(t.equal for t in tables)
        and not opening
    )
    return DrillReport(
        ok=ok,
        backup_id=restored.backup.id,
        restore_point=point.isoformat() if point else None,
        rpo_ms=rpo_ms,
        rto_s=round(rto_s, 1),
        migrations_equal=same_migrations,
        ledger_ok=ledger.ok,
        ledger_problems=list(ledger.problems),
        tables=tables,
        erased_students_checked=checked,
        erased_students_decrypting=opening,
        histories=histories_line(settings),
        failure=failure,
    )
