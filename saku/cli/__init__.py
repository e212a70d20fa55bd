"""The `saku` command."""

from __future__ import annotations

import argparse
import os
import sys

from core.logs import configure_logging
from core.settings import get_settings
from saku.cli import (
    accounts,
    bench,
    chaos,
    config,
    dr,
    keys,
    kiosk,
    ledger,
    processes,
    reports,
    simulate,
    stack,
)
from saku.cli.output import survive_lost_readers
from saku.stack.process import StackError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="saku",
        description="Saku: cashless school pocket money with transaction monitoring.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (
        processes,
        simulate,
        stack,
        accounts,
        config,
        ledger,
        keys,
        reports,
        dr,
        kiosk,
        bench,
        chaos,
    ):
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> None:
    survive_lost_readers()
    args = build_parser().parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level)
    try:
        code = int(args.handler(settings, args) or 0)
    except StackError as err:
        print(f"saku: {err}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        code = 130
    sys.stdout.flush()
    sys.stderr.flush()
    # Exit at once: the Temporal SDK's runtime can crash during interpreter teardown
    # (PyGILState_Release, exit code 134) and turn a finished command into a failure.
    os._exit(code)
