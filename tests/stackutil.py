"""Helpers to run a private embedded stack for tests: free ports, a temporary var dir."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

from saku.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def private_settings(**overrides: object) -> Settings:
    """Settings for a stack of its own: fresh ports, a fresh var dir, no external URLs."""
    # under /tmp, not pytest's 0700 tmp dir: PostgreSQL's system user must be able to enter it
    var_dir = Path(tempfile.mkdtemp(prefix="saku-test-"))
    var_dir.chmod(0o755)
    values: dict[str, object] = {
        "var_dir": var_dir,
        "pg_port": free_port(),
        "valkey_port": free_port(),
        "temporal_port": free_port(),
        "temporal_ui_port": free_port(),
        "kafka_port": free_port(),
        "api_port": free_port(),
        "database_url": None,
        "valkey_url": None,
        "temporal_address": None,
        "kafka_bootstrap_servers": None,
        "jwt_secret": "test-secret-" + os.urandom(24).hex(),
        "log_level": "INFO",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a `saku` subprocess use these settings."""
    env = {k: v for k, v in os.environ.items() if k not in _URL_SETTINGS}
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        if value is None or field.alias is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[field.alias] = str(value)
    return env


_URL_SETTINGS = {"DATABASE_URL", "VALKEY_URL", "TEMPORAL_ADDRESS", "KAFKA_BOOTSTRAP_SERVERS"}


def remove_var_dir(settings: Settings) -> None:
    shutil.rmtree(settings.var_dir, ignore_errors=True)
