"""`saku keys rotate`: a new key-encryption key for biometric templates; every student's
data key is re-wrapped under it, then the old key is dropped. Templates are not touched.

`saku keys rotate-payload`: a new key seals workflow payloads from now on (running processes
take it up within seconds); payloads sealed before stay readable under their old keys."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from core.settings import Settings


def register(commands: Any) -> None:
    keys = commands.add_parser(
        "keys", help="the keys protecting biometric templates and workflow payloads"
    )
    sub = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    rotate = sub.add_parser("rotate", help="new key-encryption key; re-wrap every data key")
    rotate.set_defaults(handler=rotate_keys)
    payload = sub.add_parser(
        "rotate-payload", help="a new key seals workflow payloads; the old ones stay readable"
    )
    payload.set_defaults(handler=rotate_payload_key)


def rotate_payload_key(settings: Settings, args: argparse.Namespace) -> int:
    from core.temporal.client import payload_keys_for
    from core.temporal.payload_keys import PayloadKeyError

    try:
        keys = payload_keys_for(settings)
        new = keys.rotate()
    except PayloadKeyError as err:
        print(f"cannot rotate: {err}")
        return 1
    older = [k for k in keys.ids if k != new]
    print(f"payload key {new} seals workflow payloads from now on ({keys.path})")
    if older:
        print(f"still readable: {', '.join(older)}")
    return 0


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
