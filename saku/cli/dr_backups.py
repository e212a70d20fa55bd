"""`saku dr backup | backups | restore | drill`: base backups (by the Backup workflow), the
catalogue, point-in-time restore into a new data directory, the restore drill (by the
RestoreDrill workflow)."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.settings import Settings
from saku.cli.temporal_access import client_with_worker
from saku.stack.process import StackError


def register_backup_commands(sub: Any) -> None:
    sub.add_parser("backup", help="take a base backup now (the Backup workflow)").set_defaults(
        handler=backup
    )
    sub.add_parser("backups", help="list the backups: size, WAL range, verified").set_defaults(
        handler=list_backups
    )
    restore = sub.add_parser(
        "restore", help="restore a backup and the archived WAL into a new data directory"
    )
    restore.add_argument(
        "--to",
        required=True,
        metavar="TIME|latest",
        help="an ISO 8601 time (without a zone: this machine's), or `latest`",
    )
    restore.add_argument("--target", type=Path, help="a new or empty data directory")
    restore.add_argument("--port", type=int, help="where the restored PostgreSQL listens")
    restore.add_argument("--backup", metavar="ID", help="this backup (default: the newest fit)")
    restore.add_argument(
        "--replace",
        action="store_true",
        help="replace the (stopped) embedded live database with the restored one",
    )
    restore.set_defaults(handler=restore_command)
    sub.add_parser(
        "drill", help="restore the newest backup to a scratch copy and check it"
    ).set_defaults(handler=drill)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def backup(settings: Settings, args: argparse.Namespace) -> int:
    from temporalio.client import WorkflowFailureError

    from core.dr.types import BackupOutcome, BackupRequest
    from workflows.backup import BackupWorkflow

    async def run() -> BackupOutcome:
        client = await client_with_worker(settings)
        handle = await client.start_workflow(
            BackupWorkflow.run,
            BackupRequest("manual"),
            id=f"backup-manual-{int(time.time() * 1000)}",
            task_queue=settings.task_queue,
        )
        print(f"backup workflow {handle.id}")
        outcome: BackupOutcome = await handle.result()
        return outcome

    try:
        outcome = asyncio.run(run())
    except WorkflowFailureError as err:
        cause: BaseException = err
        while getattr(cause, "cause", None) is not None:
            cause = cause.cause  # type: ignore[attr-defined]  # the activity's own error
        print(f"backup FAILED: {cause}")
        return 1
    b = outcome.backup
    print(
        f"backup {b.id}: {_size(b.size_bytes)}, WAL {b.start_lsn} .. {b.end_lsn} "
        f"({b.start_wal} .. {b.end_wal}), {'verified' if b.verified else 'NOT verified'}"
    )
    if not b.verified:
        print(f"  pg_verifybackup: {b.verify_detail}")
    if outcome.pruned:
        print(f"retention removed {len(outcome.pruned)}: {', '.join(outcome.pruned)}")
    if outcome.wal_removed:
        print(f"retention removed {outcome.wal_removed} archived WAL files")
    return 0 if b.verified else 1


def list_backups(settings: Settings, args: argparse.Namespace) -> int:
    from activities.dr.catalogue import Catalogue
    from core.dr.layout import catalogue_file

    records = Catalogue(catalogue_file(settings)).read()
    if not records:
        print(f"no backups in {settings.resolved_backup_dir()}: take one with `saku dr backup`")
        return 0
    header = ("backup", "finished (UTC)", "size", "WAL start..stop LSN", "WAL files", "verified")
    rows = [
        (
            r.id,
            datetime.fromisoformat(r.finished_at).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            _size(r.size_bytes),
            f"{r.start_lsn}..{r.end_lsn}",
            f"{r.start_wal}..{r.end_wal}",
            "yes" if r.verified else f"NO ({r.verify_detail})",
        )
        for r in records
    ]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _parse_time(text: str) -> datetime | None:
    if text == "latest":
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise StackError(
            f"--to {text!r} is not a time: give ISO 8601 (2026-12-07T10:15:00+07:00) or latest"
        ) from None
    return moment if moment.tzinfo else moment.astimezone()


def restore_command(settings: Settings, args: argparse.Namespace) -> int:
    from activities.dr.restore import RestoreError, restore
    from activities.dr.restores import mark_restored
    from saku.stack.components import Postgres

    to = _parse_time(args.to)
    live = Postgres(settings) if not settings.database_url else None
    live_data = live.data_dir if live else None
    target = args.target
    aside: Path | None = None
    if args.replace:
        if live is None:
            raise StackError(
                "--replace works on the embedded PostgreSQL only (DATABASE_URL is set)"
            )
        if live.process.running_pid() is not None or (live.data_dir / "postmaster.pid").exists():
            raise StackError(
                "the live PostgreSQL is running: stop it first (`saku stack down`); "
                "--replace never restores over a running database"
            )
        if target is not None:
            raise StackError("--replace restores into the live data directory: drop --target")
        target = live.data_dir
    try:
        if args.replace:
            assert live is not None and target is not None
            aside = live.data_dir.with_name(f"data.before-restore-{int(time.time())}")
            if live.data_dir.exists():
                live.data_dir.rename(aside)
        restored = restore(
            settings,
            to=to,
            target=target,
            port=args.port,
            backup_id=args.backup,
            live_data_dir=live_data,
            replace=args.replace,
        )
    except RestoreError as err:
        if aside is not None and target is not None:
            shutil.rmtree(target, ignore_errors=True)
            aside.rename(target)  # the live data directory as it was
        print(f"restore FAILED: {err}")
        print("nothing was changed")
        return 1
    instance = restored.instance
    print(
        f"restored backup {restored.backup.id} "
        f"to {'the end of the archived WAL' if to is None else to.isoformat()} "
        f"in {restored.seconds:.1f} s"
    )
    point = to or restored.last_transaction
    try:
        epoch = asyncio.run(mark_restored(restored.url, restored.backup.id, point))
    except BaseException:
        instance.stop()
        raise
    # kiosks see the epoch and check their synced offline sales; the consumer evaluates
    # what the restore kept unevaluated (see infra/README.md, "DR runbook")
    print(f"restore epoch {epoch} recorded in the restored database")
    if args.replace:
        instance.stop()
        print(f"the live data directory is now the restored one; the old one is at {aside}")
        print("start Saku on it with `saku stack up`")
        return 0
    print(f"data directory {instance.data_dir}")
    print(f"PostgreSQL on 127.0.0.1:{instance.port} (pid {instance.pid}, log {instance.log_file})")
    print(f"stop it with: kill -INT {instance.pid}")
    return 0


def drill(settings: Settings, args: argparse.Namespace) -> int:
    from core.dr.layout import histories_dir
    from core.dr.types import DrillReport, DrillRequest
    from core.temporal.client import converter_for
    from saku.replay import replay_archive
    from workflows.restore_drill import RestoreDrillWorkflow

    async def run() -> DrillReport:
        client = await client_with_worker(settings)
        handle = await client.start_workflow(
            RestoreDrillWorkflow.run,
            DrillRequest("manual"),
            id=f"restore-drill-manual-{int(time.time() * 1000)}",
            task_queue=settings.task_queue,
        )
        print(f"restore drill workflow {handle.id}")
        report: DrillReport = await handle.result()
        return report

    report = asyncio.run(run())
    replayed_ok = True
    if histories_dir(settings).exists():
        # the archived workflow histories against the current workflow code
        replay = asyncio.run(
            replay_archive(histories_dir(settings), converter=converter_for(settings))
        )
        report = replace(report, histories=replay.summary)
        replayed_ok = not replay.failures
    for line in report.lines():
        print(line)
    if not replayed_ok:
        for failure in replay.failures:
            print(failure.line())
    return 0 if report.ok and replayed_ok else 1
