"""`saku dr replica up | down | rejoin` and `saku dr failover`: the embedded PostgreSQL's
streaming hot standby (see saku/stack/failover.py)."""

from __future__ import annotations

import argparse
from typing import Any

from core.health import redact_url
from core.settings import Settings


def register_replica_commands(sub: Any) -> None:
    replica = sub.add_parser(
        "replica",
        help="the embedded PostgreSQL's streaming hot standby (needs SAKU_PG_REPLICA_PORT)",
    )
    actions = replica.add_subparsers(dest="replica_action", required=True, metavar="ACTION")
    actions.add_parser(
        "up", help="clone the primary into a standby, start it, commit synchronously to it"
    ).set_defaults(handler=replica_up)
    actions.add_parser(
        "down", help="stop the standby (the primary first stops waiting for it)"
    ).set_defaults(handler=replica_down)
    actions.add_parser(
        "rejoin", help="rewind the former primary (pg_rewind) into the new primary's standby"
    ).set_defaults(handler=replica_rejoin)
    sub.add_parser("failover", help="stop and fence the primary, promote the standby").set_defaults(
        handler=failover
    )


def replica_up(settings: Settings, args: argparse.Namespace) -> int:
    from saku.stack.failover import replica_up as up

    pair = up(settings)
    print(
        f"standby {pair.standby.name} on port {pair.standby.port} streams from "
        f"{pair.primary.name} on port {pair.primary.port}; commits are synchronous"
    )
    print(f"Saku's database URL: {redact_url(settings.resolved_database_url())}")
    return 0


def replica_down(settings: Settings, args: argparse.Namespace) -> int:
    from saku.stack.failover import replica_down as down

    stopped = down(settings)
    if stopped is None:
        print("no standby was running")
    else:
        print(f"standby {stopped.name} stopped; the primary commits without waiting for one")
    return 0


def replica_rejoin(settings: Settings, args: argparse.Namespace) -> int:
    from saku.stack.failover import rejoin

    pair = rejoin(settings)
    print(
        f"{pair.standby.name} rewound and streaming from {pair.primary.name} on port "
        f"{pair.primary.port}; commits are synchronous again"
    )
    return 0


def failover(settings: Settings, args: argparse.Namespace) -> int:
    from saku.stack.failover import failover as fail_over

    done = fail_over(settings)
    fenced = "stopped and fenced" if done.old_primary_stopped else "fenced (it was not running)"
    print(f"{done.fenced.name} {fenced}")
    print(
        f"{done.promoted.name} on port {done.promoted.port} promoted in {done.seconds:.2f} s: "
        "Saku's processes reconnect to it by themselves"
    )
    print("rejoin the former primary as its standby with `saku dr replica rejoin`")
    return 0
