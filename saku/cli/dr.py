"""`saku dr …`: disaster recovery (backups, restore, drills; the history archive and replay
register here too)."""

from __future__ import annotations

from typing import Any

from saku.cli.dr_backups import register_backup_commands


def register(commands: Any) -> None:
    dr = commands.add_parser("dr", help="disaster recovery: backups, restore, drills")
    sub = dr.add_subparsers(dest="action", required=True, metavar="ACTION")
    register_backup_commands(sub)
