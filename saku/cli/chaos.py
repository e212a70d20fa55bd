"""`saku chaos`: the fault scorecard on a private Saku of its own."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from typing import Any

from core.settings import Settings


def register(commands: Any) -> None:
    from saku.chaos.faults import DEFAULT_FAULTS, FAULTS

    chaos = commands.add_parser(
        "chaos",
        help="fault scorecard: mixed load on a private Saku, one fault at a time; exit 1 on "
        "any lost or duplicated acknowledged operation",
    )
    chaos.add_argument(
        "--faults",
        default=",".join(DEFAULT_FAULTS),
        help=f"comma-separated, in order (known: {', '.join(FAULTS)}; default: all but "
        "kill-kafka, whose memory-only broker loses what it holds)",
    )
    chaos.add_argument("--before", type=float, default=4.0, help="seconds of load before a fault")
    chaos.add_argument("--down", type=float, default=5.0, help="seconds a fault lasts")
    chaos.add_argument("--after", type=float, default=4.0, help="seconds of load after restoring")
    chaos.add_argument(
        "--drain", type=float, default=120.0, help="seconds to wait for effects before 'lost'"
    )
    chaos.add_argument(
        "--first-port",
        type=int,
        default=None,
        help="the private stack's ports: free ones from here",
    )
    chaos.add_argument("--keep", action="store_true", help="keep the private var dir (logs)")
    chaos.set_defaults(handler=chaos_run)


def _stop_on(signum: int, frame: object) -> None:
    # unwind, so that everything the run started is stopped on the way out
    raise KeyboardInterrupt


def chaos_run(settings: Settings, args: argparse.Namespace) -> int:
    from saku.chaos.run import ChaosOptions, run_chaos

    faults = tuple(name.strip() for name in args.faults.split(",") if name.strip())
    options = ChaosOptions(
        faults=faults,
        before_s=args.before,
        down_s=args.down,
        after_s=args.after,
        drain_s=args.drain,
        first_port=args.first_port,
        keep=args.keep,
    )
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop_on)
    # the scorecard is the output: not the private stack's migrations and the like
    logging.getLogger().setLevel(logging.WARNING)
    try:
        card = asyncio.run(run_chaos(options, say=lambda line: print(line, flush=True)))
    except ValueError as err:
        print(f"saku chaos: {err}")
        return 2
    print()
    print(card.render())
    if options.keep:
        print(f"logs and data kept under {card.var_dir}")
    return 1 if card.failed else 0
