"""`saku dr drill` as an operator runs it, on the session's stack with data (a top-up on the
ledger, an erased child): the newest backup and the archived WAL are restored into a
scratch PostgreSQL while the live one keeps serving; the report says RPO, RTO, the ledger
invariant, tables equal, erased children still undecryptable; the figures are stored. A
row changed in an append-only table after the restore point fails the drill."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from datetime import datetime
from decimal import Decimal

import httpx
import psycopg
import pytest

from activities.accounts import create_tenant
from activities.biometrics.keyring import KeyRing
from activities.biometrics.vault import TemplateVault
from activities.reporting.dbt import run_dbt
from activities.wallet.directory import Directory
from activities.wallet.ledger import Ledger, topup
from core.db import Pool
from core.security import Principal, Role, issue_token
from core.settings import Settings
from core.temporal.client import connect, workflow_pollers
from tests.stackutil import eventually

pytestmark = pytest.mark.integration


async def saku(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "saku", "dr", *args],
        env=settings.as_environment(),
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
async def world(processes: Settings, pool: Pool) -> str:
    """A tenant with money on the ledger and a child whose fingerprints were erased, then a
    backup; the worker is polling when this returns."""
    tenant = f"dr-{uuid.uuid4().hex[:8]}"
    async with pool.connection() as conn:
        await create_tenant(conn, tenant, "DR drill")
    directory = Directory(pool)
    await directory.create_school(tenant, "sd", "SD")
    for student in ("siti", "budi"):
        await directory.create_student(tenant, "sd", student, student.title())
    ledger = Ledger(pool)
    await ledger.open_account(tenant, "clearing:bank", "topup_clearing")
    await ledger.post(tenant, "t1", "topup", topup("wallet:siti", "clearing:bank", Decimal(5000)))
    vault = TemplateVault(pool, KeyRing.load(processes.resolved_kek_file()))
    await vault.seal(tenant, "siti", 1, os.urandom(512))
    await vault.seal(tenant, "budi", 1, os.urandom(512))
    await vault.erase(tenant, "siti", "test", "consent withdrawn")
    client = await connect(processes)
    assert await eventually(lambda: workflow_pollers(client, processes.task_queue), 30)
    taken = await saku(processes, "backup")
    assert taken.returncode == 0, taken.stdout + taken.stderr
    return tenant


def report_figures(output: str) -> dict[str, str]:
    found = {}
    for name, pattern in (
        ("rpo", r"^RPO (\d+) ms$"),
        ("rto", r"^RTO (\d+(?:\.\d+)?) s$"),
        ("tables", r"^tables equal (\d+/\d+)$"),
        ("erased", r"^erased students stay erased (\d+)$"),
        ("point", r"restore point (\S+)$"),
    ):
        match = re.search(pattern, output, re.M)
        if match:
            found[name] = match[1]
    return found


async def test_drill_restores_checks_and_records_and_fails_on_a_changed_row(
    processes: Settings, pool: Pool, world: str, client: httpx.AsyncClient
) -> None:
    passed = await saku(processes, "drill")
    out = passed.stdout
    assert passed.returncode == 0, out + passed.stderr
    figures = report_figures(out)
    assert {"rpo", "rto", "tables", "erased", "point"} <= set(figures), out
    assert "ledger invariant OK" in out.splitlines()
    assert figures["tables"] == "4/4"
    assert int(figures["erased"]) >= 1  # siti, erased before the backup, stays erased
    assert "histories replayed: not run" in out.splitlines()
    print(out)  # the real figures, for the record
    async with pool.connection() as conn:
        row = await (
            await conn.execute("SELECT * FROM dr_drills ORDER BY id DESC LIMIT 1")
        ).fetchone()
    assert row is not None and row["ok"] and row["rpo_ms"] == int(figures["rpo"])
    assert row["tables_equal"] == row["tables_compared"] == 4

    # the figures in /metrics and in the dbt mart
    principal = Principal(subject="ops", role=Role.OPERATOR, tenant=world)
    token = issue_token(
        principal,
        secret=processes.resolved_jwt_secret(),
        issuer=processes.jwt_issuer,
        ttl_seconds=60,
    )
    metrics = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert metrics.status_code == 200
    assert f"saku_dr_last_drill_rpo_ms {float(figures['rpo'])}" in metrics.text
    assert "saku_dr_last_drill_ok 1.0" in metrics.text
    built = await asyncio.to_thread(
        run_dbt, processes, "build", "--select", "stg_saku__dr_drills", "restore_drills"
    )
    assert built.ok, built.tail()
    async with pool.connection() as conn:
        mart = await (
            await conn.execute(
                "SELECT drills, passed, last_rpo_ms FROM reporting.restore_drills "
                "ORDER BY drill_date DESC LIMIT 1"
            )
        ).fetchone()
    assert mart is not None and mart["passed"] >= 1 and mart["drills"] >= mart["passed"]

    # Someone changes a row of the append-only audit log on the live database (its
    # trigger switched off by a superuser). The drill must see the copy and the live
    # database disagree. If the change was archived before the drill restored (the
    # archive timeout fell between), the copy has it too and the drill rightly agrees:
    # change it again until a drill restores to a point before the change.
    for attempt in range(3):
        with psycopg.connect(processes.resolved_backup_database_url(), dbname="saku") as conn:
            conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
            conn.execute(
                "UPDATE audit_log SET reason = %s WHERE tenant_id = %s",
                (f"tampered {attempt}", world),
            )
            conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change")
            changed_at = conn.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
        failed = await saku(processes, "drill")
        point = report_figures(failed.stdout).get("point")
        if point and datetime.fromisoformat(point) < changed_at:
            break
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "tables equal 3/4" in failed.stdout.splitlines(), failed.stdout
    assert re.search(r"^  audit_log: live \d+ rows", failed.stdout, re.M), failed.stdout
    assert "drill FAILED" in failed.stdout
