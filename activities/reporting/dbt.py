"""Run dbt (in a subprocess: dbt keeps global state and is not made for a long-lived
worker) against Saku's PostgreSQL, with the connection taken from Saku's settings."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict

from core.settings import Settings

PROJECT = Path(__file__).resolve().parents[2] / "dbt"


@dataclass(frozen=True)
class DbtRun:
    ok: bool
    command: str
    output: str  # dbt's own log lines, for the operator

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.output.strip().splitlines()[-lines:])


def target_dir(settings: Settings) -> Path:
    """Where dbt writes its build products (run_results.json among them): under var/."""
    return settings.var_dir.resolve() / "dbt" / "target"


def _server(url: str) -> tuple[str, int]:
    """dbt takes one host: of a multi-host URL (a primary and its standby), the server the
    URL reaches now (the one that accepts writes, with target_session_attrs=read-write)."""
    parts = conninfo_to_dict(url)
    host, port = str(parts.get("host") or "127.0.0.1"), str(parts.get("port") or 5432)
    if "," not in host:
        return host, int(port)
    with psycopg.connect(url, connect_timeout=5) as conn:
        return conn.info.host, conn.info.port


def dbt_environment(settings: Settings) -> dict[str, str]:
    url = settings.resolved_database_url()
    parts = conninfo_to_dict(url)
    host, port = _server(url)
    return os.environ | {
        "SAKU_DBT_HOST": host,
        "SAKU_DBT_PORT": str(port),
        "SAKU_DBT_USER": str(parts.get("user") or ""),
        "SAKU_DBT_PASSWORD": str(parts.get("password") or ""),
        "SAKU_DBT_DBNAME": str(parts.get("dbname") or "saku"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",  # and no network calls home
        # build products and logs under var/, never in the repository
        "DBT_TARGET_PATH": str(target_dir(settings)),
        "DBT_LOG_PATH": str(settings.var_dir.resolve() / "dbt" / "logs"),
    }


def dbt_command(*args: str) -> list[str]:
    dbt = str(Path(sys.executable).with_name("dbt"))  # the venv's dbt, beside this Python
    return [dbt, *args, "--project-dir", str(PROJECT), "--profiles-dir", str(PROJECT)]


def run_dbt(settings: Settings, *args: str, timeout_s: float = 900) -> DbtRun:
    """A dbt command that finishes, its output captured for the operator."""
    done = subprocess.run(
        dbt_command(*args),
        env=dbt_environment(settings),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=PROJECT,
    )
    return DbtRun(done.returncode == 0, " ".join(["dbt", *args]), done.stdout + done.stderr)


def serve_dbt_docs(settings: Settings, port: int) -> int:
    """`dbt docs serve` in the foreground until it is stopped; returns its exit status.
    No timeout and no capture: it runs as long as the user wants, printing as it goes.
    Interrupted (Ctrl-C, or a SIGINT sent to Saku alone), it stops dbt's server before
    returning, so the port is free again."""
    command = dbt_command("docs", "serve", "--port", str(port), "--no-browser")
    server = subprocess.Popen(command, env=dbt_environment(settings), cwd=PROJECT)
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        raise
