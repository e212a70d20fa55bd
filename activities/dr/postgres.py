"""Running PostgreSQL's tools and a PostgreSQL of the restore's own, as the system user
that owns the embedded one when Saku runs as root (PostgreSQL refuses to run as root)."""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from core.dr.layout import pg_tool
from core.settings import EMBEDDED_HOST, Settings


def system_user(settings: Settings) -> str | None:
    return settings.pg_system_user if os.geteuid() == 0 else None


def give_to(path: Path, user: str | None) -> None:
    """Make `path` (a tree) the system user's, as a data directory must be."""
    if user is None:
        return
    entry = pwd.getpwnam(user)
    for root, _dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)


def split_password(url: str) -> tuple[str, dict[str, str]]:
    """A connection string without its password, and the environment that carries it
    (a password on a command line shows in `ps`)."""
    parts = conninfo_to_dict(url)
    password = parts.pop("password", None)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    return make_conninfo(**{k: str(v) for k, v in parts.items() if v is not None}), env


def at_port(url: str, port: int) -> str:
    """The same connection on this machine at another port (the restored copy)."""
    parts = {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    parts.pop("hostaddr", None)
    parts.pop("target_session_attrs", None)
    return make_conninfo(**(parts | {"host": EMBEDDED_HOST, "port": str(port)}))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((EMBEDDED_HOST, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((EMBEDDED_HOST, port))
        except OSError:
            return False
    return True


@dataclass
class Instance:
    """A PostgreSQL started on a restored data directory."""

    data_dir: Path
    port: int
    pid: int
    log_file: Path

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        # a child that exited but was not reaped yet is a zombie, not a server
        try:
            return Path(f"/proc/{self.pid}/stat").read_text().split()[2] != "Z"
        except OSError:
            return False

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 60.0) -> None:
        """A fast shutdown (roll back sessions, checkpoint, exit), then wait for it."""
        if not self.alive():
            return
        os.kill(self.pid, signal.SIGINT)
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
            with contextlib.suppress(ChildProcessError):  # ours: reap it
                os.waitpid(self.pid, os.WNOHANG)
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)


def start_instance(
    settings: Settings, data_dir: Path, port: int, options: dict[str, str]
) -> Instance:
    """Start `postgres` on `data_dir` in a session of its own (it outlives the command
    that started it), logging beside the data directory."""
    log_file = data_dir.parent / f"{data_dir.name}.log"
    command = [pg_tool("postgres"), "-D", str(data_dir), "-p", str(port)]
    base = {
        "listen_addresses": EMBEDDED_HOST,
        "unix_socket_directories": "",
        "max_connections": "40",
        "shared_buffers": "64MB",
        "track_commit_timestamp": "on",
        "logging_collector": "off",
    }
    for name, value in (base | options).items():
        command += ["-c", f"{name}={value}"]
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            user=system_user(settings),
            start_new_session=True,
            cwd=data_dir,
        )
    return Instance(data_dir, port, proc.pid, log_file)


def answers(url: str) -> bool | None:
    """None: no answer yet; else whether the server is still recovering."""
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
            return bool(row[0]) if row else None
    except psycopg.OperationalError:
        return None
