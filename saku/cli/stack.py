"""`saku stack up|down|status|logs` and `saku db migrate`."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

from core.settings import Settings

if TYPE_CHECKING:
    from saku.stack.manager import UpReport


def register(commands: Any) -> None:
    stack = commands.add_parser(
        "stack", help="the embedded stack (PostgreSQL, Valkey, Temporal, Kafka)"
    )
    sub = stack.add_subparsers(dest="action", required=True, metavar="ACTION")
    sub.add_parser("up", help="start what is not running; idempotent").set_defaults(handler=up)
    sub.add_parser("down", help="stop what Saku started").set_defaults(handler=down)
    sub.add_parser("status", help="each component: health, version, address, pid").set_defaults(
        handler=status
    )
    logs_parser = sub.add_parser("logs", help="the tail of each component's log")
    logs_parser.add_argument("component", nargs="?", help="postgres, valkey, temporal or kafka")
    logs_parser.add_argument("-n", "--lines", type=int, default=40)
    logs_parser.set_defaults(handler=logs)

    db = commands.add_parser("db", help="the database")
    db_sub = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    db_sub.add_parser("migrate", help="apply pending migrations").set_defaults(handler=db_migrate)


def print_up_report(report: UpReport) -> None:
    for name in report.stale_pid_files:
        print(f"  {name}: stale pid file found (the process had died); starting it again")
    for name in report.already_running:
        print(f"  {name}: already running")
    for name in report.started:
        print(f"  {name}: started")
    for name in report.migrations:
        print(f"  migration applied: {name}")
    print(f"stack up in {report.seconds:.1f}s")


def up(settings: Settings, args: argparse.Namespace) -> int:
    from saku.stack import manager

    print_up_report(asyncio.run(manager.up(settings)))
    return asyncio.run(print_status(settings))


def down(settings: Settings, args: argparse.Namespace) -> int:
    from saku.stack import manager

    stopped = manager.down(settings)
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


async def print_status(settings: Settings) -> int:
    from saku.stack import manager

    rows = await manager.status(settings)
    header = ("component", "health", "version", "address", "pid", "note")
    table = [header]
    for row in rows:
        h = row.health
        table.append(
            (
                h.name,
                "healthy" if h.healthy else "UNHEALTHY",
                h.version or "-",
                h.address,
                str(row.pid) if row.pid else "-",
                row.note or ("" if h.healthy else h.detail),
            )
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(header) - 1)]
    for line in table:
        print(
            "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=False))
            + "  "
            + line[-1]
        )
    return 0 if all(row.health.healthy for row in rows) else 1


def status(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(print_status(settings))


def logs(settings: Settings, args: argparse.Namespace) -> int:
    from saku.stack import manager

    for name, text in manager.logs(settings, args.component, args.lines).items():
        print(f"==> {name} <==\n{text}\n")
    return 0


def db_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from core.db import migrate

    applied = asyncio.run(migrate(settings.resolved_database_url()))
    print(
        "applied: "
        + (", ".join(f"{m.version:04d}_{m.name}" for m in applied) or "nothing (up to date)")
    )
    return 0
