"""The streaming standby's side effects: clone the primary (pg_basebackup -R), rewind an old
primary into a standby of the new one (pg_rewind -R), promote, and the primary's choice of
synchronous standby. PostgreSQL's tools run as the system user that owns the data
directories when Saku runs as root."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from activities.dr.postgres import give_to, split_password, system_user
from core.dr.layout import pg_tool, wal_archive_dir
from core.settings import Settings

# The name every standby reports to its primary (`application_name` in primary_conninfo),
# and the one the primary waits for when it commits synchronously.
STANDBY_NAME = "saku-standby"


class ReplicaError(RuntimeError):
    """A replication step failed; the message says which and why."""


@dataclass(frozen=True)
class StandbyState:
    application_name: str
    state: str  # streaming, catchup, …
    sync_state: str  # sync, async, potential, quorum


def _as_standby(url: str) -> str:
    """The connection a standby opens to its primary: one host, named STANDBY_NAME."""
    parts = {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    parts.pop("target_session_attrs", None)
    return make_conninfo(**(parts | {"application_name": STANDBY_NAME}))


def _run(settings: Settings, command: list[str], env: dict[str, str], what: str) -> None:
    try:
        subprocess.run(
            command, check=True, capture_output=True, env=env, user=system_user(settings)
        )
    except subprocess.CalledProcessError as err:
        detail = (err.stderr or b"").decode(errors="replace").strip()
        raise ReplicaError(f"{what} failed: {detail}") from None


def clone(settings: Settings, primary_url: str, data_dir: Path) -> None:
    """A new standby's data directory: a base backup of the primary, streaming its WAL
    while it is taken, with standby.signal and primary_conninfo written (-R)."""
    root = data_dir.parent
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)
    give_to(root, system_user(settings))
    conninfo, env = split_password(_as_standby(primary_url))
    command = [pg_tool("pg_basebackup"), "-D", str(data_dir), "-d", conninfo]
    # -X stream: the WAL written during the copy comes with it; -c fast: checkpoint now
    _run(settings, [*command, "-R", "-X", "stream", "-c", "fast"], env, "pg_basebackup")


def rewind(settings: Settings, data_dir: Path, primary_url: str) -> None:
    """Turn a stopped former primary into a standby of `primary_url`: pg_rewind copies back
    what diverged after the promotion (the data directories have checksums on, which
    pg_rewind needs) and -R writes standby.signal and primary_conninfo. A former primary
    that crashed is first recovered by pg_rewind itself (single-user mode)."""
    # The WAL back to the last checkpoint before the two diverged may already be recycled
    # (a crashed primary's own recovery recycles segments): pg_rewind then fetches it from
    # the WAL archive by the target's restore_command (--restore-target-wal). The rewind
    # replaces the configuration file with the source's, so this line goes with it.
    archive = wal_archive_dir(settings)
    with (data_dir / "postgresql.auto.conf").open("a") as conf:
        conf.write(f'restore_command = \'cp "{archive}/%f" "%p"\'\n')
    conninfo, env = split_password(_as_standby(primary_url))
    command = [pg_tool("pg_rewind"), f"--target-pgdata={data_dir}", f"--source-server={conninfo}"]
    _run(settings, [*command, "-R", "--restore-target-wal"], env, "pg_rewind")


def in_recovery(url: str) -> bool | None:
    """Whether the server is a standby; None if it does not answer."""
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
    except psycopg.OperationalError:
        return None
    return bool(row[0]) if row else None


def promote(url: str, timeout_s: int = 60) -> None:
    """Promote the standby at `url` and wait until it accepts writes."""
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute("SELECT pg_promote(true, %s)", (timeout_s,)).fetchone()
    if not row or not row[0]:
        raise ReplicaError(f"the standby did not finish promotion in {timeout_s} s")


def set_synchronous_standby(url: str, name: str | None) -> None:
    """Make the primary at `url` wait for standby `name` to flush each commit (None: commit
    without waiting). ALTER SYSTEM and a reload: no restart, and it survives one."""
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        if name is None:
            conn.execute("ALTER SYSTEM RESET synchronous_standby_names")
        else:
            # quoted: unquoted, the name is an identifier, and `-` is not allowed in one
            names = sql.Literal(f'"{name}"')
            conn.execute(sql.SQL("ALTER SYSTEM SET synchronous_standby_names = {}").format(names))
        conn.execute("SELECT pg_reload_conf()")


def standbys(url: str) -> list[StandbyState]:
    """The standbys streaming from the primary at `url`."""
    with psycopg.connect(url, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT application_name, state, sync_state FROM pg_stat_replication"
        ).fetchall()
    return [StandbyState(str(a), str(s), str(y)) for a, s, y in rows]
