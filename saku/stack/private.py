"""A stack of its own: fresh ports and a fresh var dir, for tests and the fault scorecard."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from core.settings import Settings
from saku.stack.process import free_port, port_is_free


def _ports_from(first: int) -> Iterator[int]:
    port = first
    while port < 65536:
        if port_is_free(port):
            yield port
        port += 1
    raise RuntimeError(f"no free port at or above {first}")


def private_settings(
    prefix: str = "saku-test-", first_port: int | None = None, **overrides: object
) -> Settings:
    """Settings for a stack of its own: fresh ports (the OS's choice, or the free ones from
    `first_port` up), a fresh var dir under /tmp, no external URLs."""
    # under /tmp, not a 0700 temporary folder: PostgreSQL's system user must be able to enter it
    var_dir = Path(tempfile.mkdtemp(prefix=prefix))
    var_dir.chmod(0o755)
    ports = _ports_from(first_port) if first_port is not None else iter(free_port, None)
    values: dict[str, object] = {
        "var_dir": var_dir,
        "pg_port": next(ports),
        "valkey_port": next(ports),
        "temporal_port": next(ports),
        "temporal_ui_port": next(ports),
        "kafka_port": next(ports),
        "api_port": next(ports),
        "database_url": None,
        "valkey_url": None,
        "temporal_address": None,
        "kafka_bootstrap_servers": None,
        "jwt_secret": "private-" + os.urandom(24).hex(),
        "log_level": "INFO",
        # a private stack's webhook receivers listen on this machine, as in development
        "webhook_allow_hosts": "127.0.0.1",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def remove_var_dir(settings: Settings) -> None:
    shutil.rmtree(settings.var_dir, ignore_errors=True)
