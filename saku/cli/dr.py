"""`saku dr …`: disaster recovery. `backup`, `backups`, `restore` and `drill` are in
`saku.cli.dr_backups`; `archive` archives closed workflow histories now (and
copies the embedded Temporal server's store); `replay` replays archived histories against the
current workflow code; `replica` and `failover` are in `saku.cli.dr_replica`."""

from __future__ import annotations

import argparse
import asyncio
from datetime import date
from pathlib import Path
from typing import Any

from core.settings import Settings
from saku.cli.dr_backups import register_backup_commands
from saku.cli.dr_replica import register_replica_commands
from saku.cli.temporal_access import client_with_worker
from saku.stack.process import StackError


def register(commands: Any) -> None:
    dr = commands.add_parser(
        "dr", help="disaster recovery: backups, restore, drills, history archive and replay"
    )
    sub = dr.add_subparsers(dest="action", required=True, metavar="ACTION")

    archive = sub.add_parser(
        "archive",
        help="archive closed workflow histories now (it also runs on a Temporal schedule)",
    )
    archive.add_argument(
        "--settle",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="histories closed more recently wait for the next run (default 10)",
    )
    archive.set_defaults(handler=archive_now)

    replay = sub.add_parser(
        "replay", help="replay archived workflow histories against the current workflow code"
    )
    replay.add_argument(
        "--since",
        type=_day,
        metavar="DATE",
        help="histories closed that day (UTC, YYYY-MM-DD) or later",
    )
    replay.add_argument(
        "--type", dest="workflow_type", metavar="TYPE", help="one workflow type (e.g. KioskPayment)"
    )
    replay.add_argument(
        "--dir",
        type=Path,
        metavar="DIR",
        help="the archive (default: histories/ under SAKU_BACKUP_DIR)",
    )
    replay.set_defaults(handler=replay_archived)
    register_backup_commands(sub)
    register_replica_commands(sub)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def archive_now(settings: Settings, args: argparse.Namespace) -> int:
    from core.dr.history_archive import HISTORY_ARCHIVE_ID, ArchiveRequest, ArchiveSummary
    from core.temporal.start import Labels, start_by_key
    from workflows.history_archive import HistoryArchiveWorkflow

    queue = settings.task_queue

    async def run() -> ArchiveSummary:
        client = await client_with_worker(settings)
        # a run already under way (the schedule's) is joined rather than doubled
        started = await start_by_key(
            client,
            HistoryArchiveWorkflow.run,
            ArchiveRequest("manual", args.settle),
            id=HISTORY_ARCHIVE_ID,
            task_queue=queue,
            labels=Labels(None, "dr"),
            once=False,
        )
        handle = started.handle
        print(f"history archive workflow {handle.id} (see it in the Temporal UI)")
        summary: ArchiveSummary = await handle.result()
        return summary

    summary = asyncio.run(run())
    root = settings.resolved_backup_dir()
    kinds = ", ".join(f"{name} {n}" for name, n in sorted(summary.by_type.items()))
    print(
        f"histories archived {summary.archived} in {summary.files} file(s)"
        + (f" ({kinds})" if kinds else "")
    )
    print(f"archived: every history closed before {summary.until}, under {root / 'histories'}")
    print(
        f"Temporal store copied to {summary.store_copy}"
        if summary.store_copy
        else "Temporal store: not the embedded server's, not copied"
    )
    return 0


def replay_archived(settings: Settings, args: argparse.Namespace) -> int:
    from core.temporal.client import converter_for
    from saku.replay import replay_archive, workflow_types

    directory: Path = args.dir or settings.resolved_backup_dir() / "histories"
    if not directory.is_dir():
        raise StackError(f"no archive at {directory}: run `saku dr archive` first, or give --dir")
    known = workflow_types()
    if args.workflow_type is not None and args.workflow_type not in known:
        raise StackError(f"no workflow type {args.workflow_type!r}; Saku's are {', '.join(known)}")
    report = asyncio.run(
        replay_archive(
            directory,
            since=args.since,
            workflow_type=args.workflow_type,
            converter=converter_for(settings),
        )
    )
    for failure in report.failures:
        print(failure.line())
    print(report.summary)
    return 1 if report.failures else 0
