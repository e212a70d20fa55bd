"""`saku config defaults|import|export|activate`: monitoring configuration."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from core.settings import Settings

T = TypeVar("T")


def register(commands: Any) -> None:
    config = commands.add_parser("config", help="monitoring configuration (network maps, rules…)")
    sub = config.add_subparsers(dest="action", required=True, metavar="ACTION")
    defaults = sub.add_parser("defaults", help="print Saku's default configuration bundle")
    defaults.set_defaults(handler=print_defaults)
    importer = sub.add_parser("import", help="store a bundle (JSON file), validated first")
    importer.add_argument("file", type=Path, help="a bundle file, e.g. infra/config/default.json")
    importer.add_argument("--tenant", required=True)
    importer.set_defaults(handler=import_file)
    exporter = sub.add_parser("export", help="print every stored configuration of a tenant")
    exporter.add_argument("--tenant", required=True)
    exporter.set_defaults(handler=export)
    activate = sub.add_parser("activate", help="make a stored network map the active one")
    activate.add_argument("cfg")
    activate.add_argument("--tenant", required=True)
    activate.set_defaults(handler=activate_map)


async def _with_store(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    from activities.monitoring.config_store import ConfigStore
    from core.db import create_pool

    async with create_pool(settings.resolved_database_url(), max_size=2) as pool:
        return await work(ConfigStore(pool))


class _Refused(Exception):
    pass


def _run(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run against the config store; a refused configuration is printed and raises _Refused."""
    from core.monitoring.config import ConfigError

    try:
        return asyncio.run(_with_store(settings, work))
    except ConfigError as err:
        print(f"saku: {err}", file=sys.stderr)
        raise _Refused from err


def print_defaults(settings: Settings, args: argparse.Namespace) -> int:
    from activities.monitoring.defaults import default_bundle

    print(json.dumps(default_bundle(), indent=2))
    return 0


def import_file(settings: Settings, args: argparse.Namespace) -> int:
    from activities.monitoring.config_store import import_bundle

    try:
        bundle = json.loads(args.file.read_text())
    except (OSError, json.JSONDecodeError) as err:
        print(f"saku: cannot read {args.file}: {err}", file=sys.stderr)
        return 2
    try:
        changes = _run(settings, lambda store: import_bundle(store, args.tenant, bundle))
    except _Refused:
        return 2
    print("\n".join(changes) if changes else "nothing changed (all already stored)")
    return 0


def export(settings: Settings, args: argparse.Namespace) -> int:
    from activities.monitoring.config_store import export_bundle

    bundle = _run(settings, lambda store: export_bundle(store, args.tenant))
    print(json.dumps(bundle, indent=2))
    return 0


def activate_map(settings: Settings, args: argparse.Namespace) -> int:
    try:
        _run(settings, lambda store: store.activate(args.tenant, args.cfg))
    except _Refused:
        return 2
    print(f"network map {args.cfg} is active for tenant {args.tenant}")
    return 0
