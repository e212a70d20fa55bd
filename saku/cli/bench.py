"""`saku bench stream|kiosk`: benchmarks that print their figures."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from core.settings import Settings


def register(commands: Any) -> None:
    bench = commands.add_parser("bench", help="benchmarks (start the embedded stack if needed)")
    sub = bench.add_subparsers(dest="action", required=True, metavar="ACTION")
    stream = sub.add_parser("stream", help="the monitoring engine under a payment stream")
    stream.add_argument("--payments", type=int, default=5000, help="payments (4 messages each)")
    stream.add_argument("--rate", type=float, default=0.0, help="payments/s offered; 0 = max")
    stream.add_argument("--accounts", type=int, default=1000, help="debtor and creditor accounts")
    stream.add_argument("--history", type=int, default=5000, help="payments of seeded history")
    stream.set_defaults(handler=stream_bench)
    kiosk = sub.add_parser("kiosk", help="signed kiosk payments at a rate, request -> decision")
    kiosk.add_argument("--payments", type=int, default=1000, help="payments to measure")
    kiosk.add_argument("--rate", type=float, default=50.0, help="payments/s offered")
    kiosk.add_argument("--students", type=int, default=300, help="students with wallets")
    kiosk.add_argument("--kiosks", type=int, default=3, help="kiosks paying")
    kiosk.add_argument(
        "--api-processes",
        type=int,
        default=1,
        help="`saku api` processes (each with its in-process worker) the payments are spread over",
    )
    kiosk.set_defaults(handler=kiosk_bench)


def stream_bench(settings: Settings, args: argparse.Namespace) -> int:
    from saku.bench.stream import StreamOptions, run_stream_bench
    from saku.gc_tuning import settle_garbage_collector
    from saku.stack import manager

    asyncio.run(manager.up(settings))
    settle_garbage_collector()  # the load generator shares the machine with the stack
    options = StreamOptions(
        payments=args.payments, rate=args.rate, accounts=args.accounts, history=args.history
    )
    print(asyncio.run(run_stream_bench(settings, options)))
    return 0


def kiosk_bench(settings: Settings, args: argparse.Namespace) -> int:
    from saku.bench.kiosk import KioskOptions, run_kiosk_bench
    from saku.stack import manager

    if args.rate <= 0 or args.payments <= 0:
        print("--rate and --payments must be positive")
        return 2
    if args.api_processes < 1:
        print("--api-processes must be at least 1")
        return 2
    asyncio.run(manager.up(settings))
    options = KioskOptions(
        payments=args.payments,
        rate=args.rate,
        students=args.students,
        kiosks=args.kiosks,
        api_processes=args.api_processes,
    )
    print(asyncio.run(run_kiosk_bench(settings, options)))
    return 0
