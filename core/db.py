"""The PostgreSQL pool and Saku's forward-only migrations.

Migrations are the SQL files in infra/migrations/, named `NNNN_description.sql`, applied in
order, each in its own transaction, and recorded in `schema_migrations` with a checksum so
an edited migration that already ran is refused rather than silently diverging.
"""

from __future__ import annotations

import hashlib
import logging
import re
import select
from dataclasses import dataclass
from pathlib import Path

import orjson
import psycopg
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool

log = logging.getLogger(__name__)

# json/jsonb columns are read with orjson: history and evaluations are read in bulk, and
# orjson decodes faster than the standard library.
set_json_loads(orjson.loads)

# Saku's pools hand out autocommit connections whose rows are dicts.
Pool = AsyncConnectionPool[psycopg.AsyncConnection[DictRow]]

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "infra" / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Any constant works: it only has to be the same for every process that migrates.
_MIGRATION_LOCK_ID = 0x5A4B55


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files must be named NNNN_name.sql")
        migrations.append(Migration(int(match[1]), match[2], path.read_text()))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration versions in {directory}")
    return migrations


async def migrate(database_url: str, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply pending migrations; returns the ones applied now."""
    pending = discover_migrations(directory)
    applied_now: list[Migration] = []
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK_ID,))
        try:
            await conn.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                       version integer PRIMARY KEY,
                       name text NOT NULL,
                       checksum text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            cur = await conn.execute("SELECT version, checksum FROM schema_migrations")
            done = {row[0]: row[1] for row in await cur.fetchall()}
            for migration in pending:
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        raise MigrationError(
                            f"migration {migration.version:04d}_{migration.name} was edited "
                            "after it was applied; migrations are forward-only: add a new one"
                        )
                    continue
                async with conn.transaction():
                    await conn.execute(migration.sql.encode())
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) "
                        "VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                # debug: the callers (`saku db migrate`, `saku stack up`, `saku up`) print
                # what was applied; at info every migration showed twice on a terminal
                log.debug("migration applied", extra={"migration": migration.version})
                applied_now.append(migration)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK_ID,))
    return applied_now


def create_pool(database_url: str, *, min_size: int = 1, max_size: int = 10) -> Pool:
    """A pool that is not yet open: `await pool.open()` (or use it as a context manager).
    `database_url` may name several hosts (libpq's multi-host form)."""
    return AsyncConnectionPool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        open=False,
        kwargs={"row_factory": dict_row, "autocommit": True},
        connection_class=psycopg.AsyncConnection[DictRow],
        # Every connection is checked as it is handed out, so one to a server that died or
        # was failed over is discarded and replaced by a new one, which a multi-host URL
        # with target_session_attrs=read-write takes to the new primary.
        check=check_connection,
    )


async def check_connection(conn: psycopg.AsyncConnection[DictRow]) -> None:
    """Raise if an idle connection is no longer usable. An idle connection's server sends
    nothing unasked until it goes away (it closes the socket as it stops, crashes or is
    shut down for a failover), so a socket with nothing to read is as good as a round trip
    says, without one: a payment checks out a connection about ten times. A socket with
    something to read (the end of the stream, or a notice) gets the round trip."""
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the connection is closed")
    # poll, not select: select() refuses descriptors numbered 1024 and above
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    if poller.poll(0):
        await AsyncConnectionPool.check_connection(conn)
