"""`saku keys rotate`: a new key-encryption key for biometric templates; every student's
data key is re-wrapped under it, then the old key is dropped. Templates are not touched."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from core.settings import Settings


def register(commands: Any) -> None:
    keys = commands.add_parser("keys", help="the keys protecting biometric templates")
    sub = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    rotate = sub.add_parser("rotate", help="new key-encryption key; re-wrap every data key")
    rotate.set_defaults(handler=rotate_keys)


def rotate_keys(settings: Settings, args: argparse.Namespace) -> int:
    from activities.biometrics.keyring import KeyRing, KeyRingError
    from activities.biometrics.vault import TemplateVault
    from core.db import create_pool

    try:
        ring = KeyRing.load(settings.resolved_kek_file())
    except KeyRingError as err:
        print(f"cannot rotate: {err}")
        return 1

    async def run() -> tuple[int, list[int]]:
        async with create_pool(settings.resolved_database_url(), max_size=1) as pool:
            vault = TemplateVault(pool, ring)
            ring.rotate()
            moved = await vault.rewrap_all()
            # only once nothing is wrapped with them any more are the old keys dropped
            return moved, ring.retire(await vault.kek_versions_in_use())

    moved, dropped = asyncio.run(run())
    print(f"key-encryption key v{ring.current} is current; {moved} data key(s) re-wrapped")
    if dropped:
        print(f"dropped old key-encryption key version(s): {', '.join(map(str, dropped))}")
    return 0
