"""`saku simulate`: Saku with a canteen day to watch (the README's run command)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from core.settings import Settings


def register(commands: Any) -> None:
    sim = commands.add_parser(
        "simulate",
        help="start everything and run one school's canteen day, with a live summary",
    )
    sim.add_argument("--students", type=int, default=300, help="students (and guardians)")
    sim.add_argument("--kiosks", type=int, default=3, help="kiosks with simulated sensors")
    sim.add_argument("--enrol", type=int, default=120, help="students enrolled this morning")
    sim.add_argument("--payments", type=int, default=400, help="purchases at the lunch rush")
    sim.add_argument("--rate", type=float, default=8.0, help="purchases/s at the rush")
    sim.add_argument("--seed", type=int, default=2026, help="the day's random seed")
    sim.add_argument("--exit", action="store_true", help="stop everything after the day")
    sim.set_defaults(handler=simulate)


def simulate(settings: Settings, args: argparse.Namespace) -> int:
    from saku.cli.processes import run_saku

    if args.students < 10 or args.kiosks < 3 or args.payments < 10 or args.rate <= 0:
        print("need at least 10 students, 3 kiosks, 10 payments and a positive rate")
        return 2

    def day() -> bool:
        from saku.simulate.day import DayOptions
        from saku.simulate.run import run_canteen_day

        options = DayOptions(payments=args.payments, rate=args.rate, enrol=args.enrol)
        ok = asyncio.run(run_canteen_day(settings, args.students, args.kiosks, options, args.seed))
        print(
            "\nthe day is over; Saku keeps running (Ctrl-C stops everything)"
            if not args.exit
            else "\nthe day is over"
        )
        return ok

    return run_saku(settings, then=day, stop_after=args.exit)
