"""`saku kiosk`: run one kiosk (agent, sensor, screen) against a Saku API."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.settings import Settings


def register(commands: Any) -> None:
    kiosk = commands.add_parser("kiosk", help="run a kiosk: its sensor, its screen, its sync")
    kiosk.add_argument("--tenant", required=True)
    kiosk.add_argument("--kiosk", required=True, help="this kiosk's id")
    kiosk.add_argument("--key-id", required=True, help="the id Saku gave its key")
    kiosk.add_argument(
        "--key-file", type=Path, required=True, help="the 32-byte Ed25519 private key (mode 0600)"
    )
    kiosk.add_argument("--sensor", required=True, help="the sensor's serial port")
    kiosk.add_argument("--saku", default=None, help="Saku's API URL (default: this machine's)")
    kiosk.add_argument("--data-dir", type=Path, default=Path("var/kiosk"))
    kiosk.add_argument("--port", type=int, default=58090, help="the screen's port (localhost)")
    kiosk.set_defaults(handler=run_kiosk)


def run_kiosk(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from devices.kiosk.run import KioskSetup, build_kiosk

    if args.key_file.stat().st_mode & 0o077:
        print(f"{args.key_file} must be readable by its owner only (chmod 600)")
        return 2
    setup = KioskSetup(
        tenant=args.tenant,
        kiosk_id=args.kiosk,
        key_id=args.key_id,
        key_file=args.key_file,
        sensor_port=args.sensor,
        saku_url=args.saku or f"http://{settings.api_host}:{settings.api_port}",
        data_dir=args.data_dir,
    )
    print(f"kiosk {args.kiosk}: screen on http://127.0.0.1:{args.port}")
    uvicorn.run(build_kiosk(setup), host="127.0.0.1", port=args.port, log_config=None)
    return 0
