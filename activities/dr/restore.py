"""Point-in-time restore: a base backup copied into a NEW data directory, rolled forward by
the archived WAL to a time (or to the end of the archive), started on a free port.

Every refusal happens before anything is written: a target in use, no backup old enough, a
corrupt backup (pg_verifybackup against its manifest), a missing WAL segment. A recovery
that fails later (the archive ends before the target) removes what it wrote."""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from activities.dr.basebackup import verify
from activities.dr.catalogue import Catalogue
from activities.dr.postgres import (
    Instance,
    answers,
    at_port,
    free_port,
    give_to,
    port_is_free,
    start_instance,
    system_user,
)
from core.dr.layout import base_backups_dir, catalogue_file, restores_dir, wal_archive_dir
from core.dr.types import BackupRecord
from core.dr.wal import SEGMENT_NAME, missing_segments, parse_segment_name
from core.settings import Settings

NOT_REACHED = "recovery ended before configured recovery target was reached"


class RestoreError(RuntimeError):
    """A restore that cannot (or did not) happen; nothing was changed. Says what to do."""


@dataclass
class Restored:
    backup: BackupRecord
    instance: Instance
    url: str  # Saku's own role on the restored copy
    seconds: float  # copy + recovery until it answered read-write
    # the last transaction the recovery replayed (PostgreSQL logs it when recovery ends)
    last_transaction: datetime | None


_LAST_TRANSACTION = re.compile(r"last completed transaction was at log time (.+)$", re.M)


def last_transaction(log: str) -> datetime | None:
    found = _LAST_TRANSACTION.findall(log)
    return datetime.fromisoformat(found[-1].strip()) if found else None


def choose_backup(
    records: list[BackupRecord], to: datetime | None, backup_id: str | None, where: Path
) -> BackupRecord:
    if backup_id is not None:
        chosen = [r for r in records if r.id == backup_id]
        if not chosen:
            raise RestoreError(f"no backup {backup_id!r} in {where} (see `saku dr backups`)")
        record = chosen[0]
        if to is not None and datetime.fromisoformat(record.finished_at) > to:
            raise RestoreError(
                f"backup {record.id} finished at {record.finished_at}, after {to.isoformat()}:"
                " a backup can only be rolled forward"
            )
        return record
    verified = [r for r in records if r.verified]
    if not verified:
        raise RestoreError(f"no verified backup in {where}: take one with `saku dr backup`")
    if to is None:
        return verified[-1]
    older = [r for r in verified if datetime.fromisoformat(r.finished_at) <= to]
    if not older:
        raise RestoreError(
            f"no backup older than {to.isoformat()}: the oldest verified backup, "
            f"{verified[0].id}, finished at {verified[0].finished_at}"
        )
    return older[-1]


def check_target(target: Path, live_data_dir: Path | None) -> None:
    if live_data_dir is not None and target.resolve() == live_data_dir.resolve():
        raise RestoreError(
            f"{target} is the live database's data directory: restore elsewhere, or stop "
            "the live database and use --replace"
        )
    if (target / "postmaster.pid").exists():
        raise RestoreError(f"{target} is in use by a running PostgreSQL (postmaster.pid)")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise RestoreError(f"{target} is not empty: restore into a new or empty directory")


def check_wal(settings: Settings, backup: BackupRecord, to: datetime | None) -> None:
    """Refuse a restore that a missing WAL segment would cut short."""
    archive = wal_archive_dir(settings)
    archived = {p.name: p for p in archive.iterdir()} if archive.exists() else {}
    in_backup = base_backups_dir(settings) / backup.id / "pg_wal"
    present = set(archived)
    if in_backup.exists():
        present |= {p.name for p in in_backup.iterdir()}
    size = backup.wal_segment_size
    _, first = parse_segment_name(backup.start_wal, size)
    missing = missing_segments(present, backup.timeline, first, size)
    if not missing:
        return
    gap = missing[0]
    _, gap_no = parse_segment_name(gap, size)
    after_gap = (backup.timeline, gap_no + 1)
    later = [
        p
        for name, p in archived.items()
        if SEGMENT_NAME.match(name) and parse_segment_name(name, size) == after_gap
    ]
    # a segment after the gap archived before the target: the target needs the gap
    if to is None or (later and datetime.fromtimestamp(later[0].stat().st_mtime, UTC) <= to):
        raise RestoreError(
            f"WAL segment {gap} is missing from {archive} (between backup {backup.id}, which "
            f"starts at {backup.start_wal}, and {'the archive' if to is None else 'the target'}"
            f"{'' if len(missing) == 1 else f'; {len(missing)} segments are missing'}): "
            "restore to a time before it, or find the segment"
        )


def restore(
    settings: Settings,
    *,
    to: datetime | None,
    target: Path | None = None,
    port: int | None = None,
    backup_id: str | None = None,
    live_data_dir: Path | None = None,
    replace: bool = False,
    timeout_s: float = 600.0,
) -> Restored:
    """Restore and start; the caller stops the returned instance when done with it."""
    began = time.monotonic()
    records = Catalogue(catalogue_file(settings)).read()
    if target is None:
        target = restores_dir(settings) / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    check_target(target, None if replace else live_data_dir)
    if port is None:
        port = free_port()
    elif not port_is_free(port):
        raise RestoreError(f"port {port} is in use: choose another with --port")
    backup = choose_backup(records, to, backup_id, settings.resolved_backup_dir())
    source = base_backups_dir(settings) / backup.id
    ok, detail = verify(source)
    if not ok:
        raise RestoreError(
            f"backup {backup.id} is corrupt (its files do not match its manifest: {detail}); "
            "restore from another with --backup ID (see `saku dr backups`)"
        )
    check_wal(settings, backup, to)

    created = not target.exists()
    shutil.copytree(source, target, dirs_exist_ok=True)
    (target / "recovery.signal").touch()
    give_to(target, system_user(settings))
    target.chmod(0o700)
    options = {
        "archive_mode": "off",  # a restored copy must not write into the live archive
        "restore_command": f"cp {wal_archive_dir(settings)}/%f %p",
        "recovery_target_action": "promote",
        # no connections before recovery ends: a copy is read only once it is whole (and
        # a hot standby would have to match the primary's max_connections and the like)
        "hot_standby": "off",
    }
    if to is not None:
        options["recovery_target_time"] = to.isoformat(sep=" ")
    instance = start_instance(settings, target, port, options)
    url = at_port(settings.resolved_database_url(), port)
    try:
        _wait_promoted(instance, url, to, timeout_s)
    except BaseException:
        instance.stop()
        if created:
            shutil.rmtree(target, ignore_errors=True)
        else:
            for child in target.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        raise
    seconds = time.monotonic() - began
    log = instance.log_file.read_text(errors="replace")
    return Restored(backup, instance, url, seconds, last_transaction(log))


def _wait_promoted(instance: Instance, url: str, to: datetime | None, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not instance.alive():
            tail = instance.log_tail()
            if NOT_REACHED in tail:
                raise RestoreError(
                    f"the archived WAL ends before {to.isoformat() if to else 'the target'}: "
                    "the newest transactions are not archived yet (they are within "
                    "SAKU_WAL_ARCHIVE_TIMEOUT_S) or a segment is missing; choose an "
                    f"earlier time. PostgreSQL said:\n{tail}"
                )
            raise RestoreError(f"the restored PostgreSQL stopped during recovery:\n{tail}")
        if answers(url) is False:
            return
        time.sleep(0.1)
    raise RestoreError(f"recovery did not finish within {timeout_s:.0f} s; see {instance.log_file}")
