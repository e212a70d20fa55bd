"""Backups and point-in-time restore on the session's real PostgreSQL, as an operator runs
them: `saku dr backup` (the Backup workflow) then `saku dr backups`; `saku dr restore` to a
time between two writes brings back exactly the first; a corrupt backup, a missing WAL
segment, a target in use and a time before every backup are refused with a clear message,
and change nothing."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from activities.dr import basebackup
from activities.dr.catalogue import Catalogue
from activities.dr.postgres import at_port
from core.dr.layout import base_backups_dir, catalogue_file, wal_archive_dir
from core.dr.types import BackupRecord
from core.settings import Settings
from core.temporal.client import connect, workflow_pollers
from tests.stackutil import eventually, free_port

pytestmark = pytest.mark.integration


def saku(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "saku", "dr", *args],
        env=settings.as_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def write_and_archive(settings: Settings, mark: str) -> None:
    """Insert a mark, then switch WAL and wait until the segment holding it is archived."""
    with psycopg.connect(settings.resolved_database_url(), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS dr_test_marks (mark text PRIMARY KEY, "
            "at timestamptz NOT NULL DEFAULT clock_timestamp())"
        )
        conn.execute("INSERT INTO dr_test_marks (mark) VALUES (%s)", (mark,))
    with psycopg.connect(settings.resolved_backup_database_url(), autocommit=True) as conn:
        row = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()
    assert row is not None
    archived = wal_archive_dir(settings) / row[0]
    deadline = time.monotonic() + 60
    while not archived.exists():
        assert time.monotonic() < deadline, f"{archived} was never archived"
        time.sleep(0.05)


def marks(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT mark FROM dr_test_marks ORDER BY at")]


def a_target(settings: Settings) -> Path:
    # under the stack's var dir: PostgreSQL's system user must be able to enter it
    return settings.var_dir.resolve() / "restores-test" / uuid.uuid4().hex[:8]


def snapshot(settings: Settings) -> tuple[bytes, list[str], list[str]]:
    """What a refused restore must leave as it was: catalogue, backups, archive."""
    return (
        catalogue_file(settings).read_bytes(),
        sorted(p.name for p in base_backups_dir(settings).iterdir()),
        sorted(p.name for p in wal_archive_dir(settings).iterdir()),
    )


@pytest.fixture(scope="module")
def backup(stack: Settings) -> BackupRecord:
    write_and_archive(stack, f"before-{uuid.uuid4().hex[:6]}")
    return basebackup.take(stack, "test")


@pytest.fixture
def restored_servers() -> Iterator[list[int]]:
    pids: list[int] = []
    yield pids
    for pid in pids:
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            continue
        for _ in range(200):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)


async def worker_polls(settings: Settings) -> None:
    client = await connect(settings)
    assert await eventually(lambda: workflow_pollers(client, settings.task_queue), 30)


async def test_backup_then_list(processes: Settings) -> None:
    await worker_polls(processes)  # the in-process worker runs this test's workflow
    taken = await asyncio.to_thread(saku, processes, "backup")
    assert taken.returncode == 0, taken.stdout + taken.stderr
    found = re.search(
        r"backup (\d{8}T\d+Z): .*WAL (\S+) \.\. (\S+) \((\w+) \.\. (\w+)\), verified", taken.stdout
    )
    assert found, taken.stdout
    backup_id = found[1]
    assert (base_backups_dir(processes) / backup_id / "backup_manifest").exists()

    listed = await asyncio.to_thread(saku, processes, "backups")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split()[:2] == ["backup", "finished"]
    row = next(r for r in rows if r.startswith(backup_id))
    assert f"{found[2]}..{found[3]}" in row and f"{found[4]}..{found[5]}" in row
    assert row.rstrip().endswith("yes")
    assert re.search(r"\d+\.\d (KiB|MiB|GiB)", row)


def test_restore_to_a_time_between_two_writes_restores_exactly_the_first(
    stack: Settings, backup: BackupRecord, restored_servers: list[int]
) -> None:
    first, second = f"first-{uuid.uuid4().hex[:6]}", f"second-{uuid.uuid4().hex[:6]}"
    write_and_archive(stack, first)
    time.sleep(0.3)
    between = datetime.now(UTC)
    time.sleep(0.3)
    write_and_archive(stack, second)

    target, port = a_target(stack), free_port()
    result = saku(
        stack,
        "restore",
        "--to",
        between.isoformat(),
        "--target",
        str(target),
        "--port",
        str(port),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    restored_servers.append(int(re.search(r"pid (\d+)", result.stdout)[1]))  # type: ignore[index]
    assert f"PostgreSQL on 127.0.0.1:{port}" in result.stdout
    restored = marks(at_port(stack.resolved_database_url(), port))
    assert first in restored and second not in restored
    live = marks(stack.resolved_database_url())
    assert restored == live[: live.index(first) + 1]  # everything up to the first, exactly
    # the restore is recorded in the copy (kiosks and the consumer act on it), not the live
    epoch = re.search(r"restore epoch (\w+) recorded", result.stdout)
    assert epoch, result.stdout
    with psycopg.connect(at_port(stack.resolved_database_url(), port)) as conn:
        recorded = conn.execute("SELECT epoch, restored_to FROM dr_restores").fetchall()
    assert recorded == [(epoch[1], between)]
    with psycopg.connect(stack.resolved_database_url()) as conn:
        assert conn.execute("SELECT count(*) FROM dr_restores").fetchone() == (0,)
    shutil.rmtree(target.parent, ignore_errors=True)


def test_a_corrupt_backup_is_refused_and_nothing_changes(
    stack: Settings, backup: BackupRecord
) -> None:
    # a byte of a table's file flipped: only the manifest's checksum can tell
    files = (base_backups_dir(stack) / backup.id / "base").rglob("*")
    path = max((p for p in files if p.is_file()), key=lambda p: p.stat().st_size)
    original = path.read_bytes()
    path.write_bytes(original[:100] + bytes([original[100] ^ 0xFF]) + original[101:])
    try:
        before = snapshot(stack)
        target = a_target(stack)
        result = saku(stack, "restore", "--to", "latest", "--target", str(target))
        assert result.returncode == 1
        assert f"backup {backup.id} is corrupt" in result.stdout, result.stdout
        assert "checksum mismatch" in result.stdout and "nothing was changed" in result.stdout
        assert "Traceback" not in result.stderr
        assert not target.exists() and snapshot(stack) == before
    finally:
        path.write_bytes(original)


def test_a_missing_wal_segment_is_refused_and_nothing_changes(
    stack: Settings, backup: BackupRecord
) -> None:
    for i in range(3):
        write_and_archive(stack, f"gap-{i}-{uuid.uuid4().hex[:6]}")
    archive = wal_archive_dir(stack)
    segments = sorted(p.name for p in archive.iterdir() if re.fullmatch(r"[0-9A-F]{24}", p.name))
    missing = segments[-2]  # between the backup and the newest archived segment
    aside = stack.var_dir / missing
    (archive / missing).rename(aside)
    try:
        before = snapshot(stack)
        target = a_target(stack)
        result = saku(stack, "restore", "--to", "latest", "--target", str(target))
        assert result.returncode == 1
        assert f"WAL segment {missing} is missing" in result.stdout, result.stdout
        assert "nothing was changed" in result.stdout and "Traceback" not in result.stderr
        assert not target.exists() and snapshot(stack) == before
    finally:
        aside.rename(archive / missing)


def test_a_target_in_use_or_too_early_a_time_is_refused_and_nothing_changes(
    stack: Settings, backup: BackupRecord
) -> None:
    before = snapshot(stack)
    busy = a_target(stack)
    busy.mkdir(parents=True)
    (busy / "postmaster.pid").write_text("12345\n")
    result = saku(stack, "restore", "--to", "latest", "--target", str(busy))
    assert result.returncode == 1
    assert f"{busy} is in use by a running PostgreSQL" in result.stdout, result.stdout
    assert sorted(p.name for p in busy.iterdir()) == ["postmaster.pid"]

    (busy / "postmaster.pid").unlink()
    (busy / "notes.txt").write_text("mine")
    result = saku(stack, "restore", "--to", "latest", "--target", str(busy))
    assert result.returncode == 1 and f"{busy} is not empty" in result.stdout, result.stdout
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"]

    early = a_target(stack)
    result = saku(stack, "restore", "--to", "2001-01-01T00:00:00+00:00", "--target", str(early))
    assert result.returncode == 1
    assert "no backup older than 2001-01-01T00:00:00+00:00" in result.stdout, result.stdout
    assert not early.exists() and snapshot(stack) == before
    assert Catalogue(catalogue_file(stack)).latest_verified() is not None
