"""Base backups by pg_basebackup (plain format, with a SHA-256 manifest), verified by
pg_verifybackup, recorded in the catalogue, pruned by retention."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from activities.dr.catalogue import Catalogue, to_prune
from activities.dr.postgres import split_password
from core.dr.layout import base_backups_dir, catalogue_file, pg_tool, wal_archive_dir
from core.dr.types import BackupRecord
from core.dr.wal import parse_lsn, segment_name, segment_number
from core.settings import Settings


class BackupError(RuntimeError):
    """A backup could not be taken; the message says what to fix."""


def _archiving(url: str) -> tuple[str, int]:
    """The server's archive_mode and WAL segment size."""
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            rows: dict[str, str] = dict(
                conn.execute(
                    "SELECT name, setting FROM pg_settings "
                    "WHERE name IN ('archive_mode', 'wal_segment_size')"
                ).fetchall()
            )
    except psycopg.OperationalError as err:
        raise BackupError(f"PostgreSQL is not reachable for a backup: {err}") from None
    return rows["archive_mode"], int(rows["wal_segment_size"])


def verify(path: Path) -> tuple[bool, str]:
    """pg_verifybackup: every file against the manifest's SHA-256, and the WAL the backup
    needs parsed; (ok, what it said)."""
    result = subprocess.run([pg_tool("pg_verifybackup"), str(path)], capture_output=True, text=True)
    said = (result.stdout + result.stderr).strip()
    return result.returncode == 0, said.splitlines()[-1] if said else ""


def size_of(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def take(settings: Settings, trigger: str) -> BackupRecord:
    url = settings.resolved_backup_database_url()
    archive_mode, segment_size = _archiving(url)
    if archive_mode == "off":
        raise BackupError(
            "WAL archiving is off on this PostgreSQL, so a base backup could not be rolled "
            "forward to a point in time: restart the embedded stack (`saku stack down`, "
            "`saku stack up`), or set archive_mode on the server (infra/README.md)"
        )
    started = datetime.now(UTC)
    backup_id = started.strftime("%Y%m%dT%H%M%S%fZ")
    root = base_backups_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    draft = root / f".{backup_id}.partial"
    conninfo, env = split_password(url)
    result = subprocess.run(
        [
            pg_tool("pg_basebackup"),
            "-d",
            conninfo,
            "-D",
            str(draft),
            "--wal-method=stream",
            "--checkpoint=fast",
            "--manifest-checksums=SHA256",
            f"--label=saku-{backup_id}",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    if result.returncode != 0:
        shutil.rmtree(draft, ignore_errors=True)
        raise BackupError(f"pg_basebackup failed: {result.stderr.strip()[-2000:]}")
    finished = datetime.now(UTC)
    path = root / backup_id
    draft.rename(path)  # a backup under its id is whole
    ok, detail = verify(path)
    manifest = json.loads((path / "backup_manifest").read_text())
    wal = manifest["WAL-Ranges"][0]
    start, end = parse_lsn(wal["Start-LSN"]), parse_lsn(wal["End-LSN"])
    timeline = int(wal["Timeline"])
    record = BackupRecord(
        id=backup_id,
        started_at=started.isoformat(),
        finished_at=finished.isoformat(),
        timeline=timeline,
        start_lsn=wal["Start-LSN"],
        end_lsn=wal["End-LSN"],
        start_wal=segment_name(timeline, segment_number(start, segment_size), segment_size),
        end_wal=segment_name(timeline, segment_number(end, segment_size), segment_size),
        wal_segment_size=segment_size,
        size_bytes=size_of(path),
        verified=ok,
        verify_detail=detail,
        trigger=trigger,
    )
    Catalogue(catalogue_file(settings)).add(record)
    return record


def prune(settings: Settings) -> tuple[list[str], int]:
    """Remove the backups past retention (never the newest verified one), then the archived
    WAL older than every backup kept; returns (backup ids removed, WAL files removed)."""
    catalogue = Catalogue(catalogue_file(settings))
    doomed = to_prune(catalogue.read(), settings.backup_keep)
    for record in doomed:
        shutil.rmtree(base_backups_dir(settings) / record.id, ignore_errors=True)
    catalogue.remove({r.id for r in doomed})
    kept = catalogue.read()
    if not kept:
        return [r.id for r in doomed], 0
    archive = wal_archive_dir(settings)
    before = {p.name for p in archive.iterdir()} if archive.exists() else set()
    # pg_archivecleanup removes every segment logically older than the oldest kept start
    subprocess.run(
        [pg_tool("pg_archivecleanup"), str(archive), kept[0].start_wal],
        capture_output=True,
        check=True,
    )
    after = {p.name for p in archive.iterdir()}
    return [r.id for r in doomed], len(before - after)
