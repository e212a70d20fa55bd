"""Forward-only, versioned migrations, each in its own transaction."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote, urlparse, urlunparse

import psycopg
import pytest

from core.db import MIGRATIONS_DIR, MigrationError, migrate
from core.settings import Settings
from core.wallet.portal import virtual_account_number

pytestmark = pytest.mark.integration


@pytest.fixture
async def schema_url(stack: Settings) -> AsyncIterator[str]:
    """A URL whose search_path is a fresh, empty schema: an isolated place to migrate."""
    schema = f"mig_{uuid.uuid4().hex[:10]}"
    base = stack.resolved_database_url()
    async with await psycopg.AsyncConnection.connect(base, autocommit=True) as conn:
        await conn.execute(f"CREATE SCHEMA {schema}")
    yield f"{base}?options={quote(f'-csearch_path={schema}')}"
    async with await psycopg.AsyncConnection.connect(base, autocommit=True) as conn:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
async def empty_database(stack: Settings) -> AsyncIterator[str]:
    """The URL of a new, empty database on the session's PostgreSQL (Saku's migrations
    create a schema of their own besides public, so they need a database to themselves)."""
    name = f"mig_{uuid.uuid4().hex[:10]}"
    password = stack.embedded_secret("postgres-superuser.password")
    superuser = f"postgresql://postgres:{password}@127.0.0.1:{stack.pg_port}/postgres"
    async with await psycopg.AsyncConnection.connect(superuser, autocommit=True) as conn:
        await conn.execute(f"CREATE DATABASE {name} OWNER saku")
    base = stack.resolved_database_url()
    yield urlunparse(urlparse(base)._replace(path=f"/{name}"))
    async with await psycopg.AsyncConnection.connect(superuser, autocommit=True) as conn:
        await conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def write(directory: Path, name: str, sql: str) -> None:
    (directory / name).write_text(sql)


async def tables(url: str) -> set[str]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        return {row[0] for row in await cur.fetchall()}


async def test_applies_in_order_records_them_and_is_idempotent(
    schema_url: str, tmp_path: Path
) -> None:
    write(tmp_path, "0001_first.sql", "CREATE TABLE a (id int);")
    write(tmp_path, "0002_second.sql", "CREATE TABLE b (a_id int);")
    applied = await migrate(schema_url, tmp_path)
    assert [m.version for m in applied] == [1, 2]
    assert await migrate(schema_url, tmp_path) == []
    assert {"a", "b", "schema_migrations"} <= await tables(schema_url)


async def test_a_failing_migration_leaves_nothing_half_done(
    schema_url: str, tmp_path: Path
) -> None:
    write(tmp_path, "0001_good.sql", "CREATE TABLE good (id int);")
    write(tmp_path, "0002_bad.sql", "CREATE TABLE half (id int); SELECT no_such_function();")
    with pytest.raises(psycopg.errors.UndefinedFunction):
        await migrate(schema_url, tmp_path)
    present = await tables(schema_url)
    assert "good" in present and "half" not in present
    async with await psycopg.AsyncConnection.connect(schema_url) as conn:
        cur = await conn.execute("SELECT version FROM schema_migrations")
        assert [row[0] for row in await cur.fetchall()] == [1]


async def test_an_edited_applied_migration_is_refused(schema_url: str, tmp_path: Path) -> None:
    write(tmp_path, "0001_first.sql", "CREATE TABLE a (id int);")
    await migrate(schema_url, tmp_path)
    write(tmp_path, "0001_first.sql", "CREATE TABLE a (id bigint);")
    with pytest.raises(MigrationError, match="forward-only"):
        await migrate(schema_url, tmp_path)


async def test_badly_named_files_are_refused(schema_url: str, tmp_path: Path) -> None:
    write(tmp_path, "first.sql", "SELECT 1;")
    with pytest.raises(MigrationError, match=r"NNNN_name\.sql"):
        await migrate(schema_url, tmp_path)


async def test_saku_migrations_are_applied_by_the_stack(stack: Settings) -> None:
    async with await psycopg.AsyncConnection.connect(stack.resolved_database_url()) as conn:
        cur = await conn.execute("SELECT version, name FROM schema_migrations ORDER BY version")
        rows = await cur.fetchall()
    assert rows[0] == (1, "tenants_and_users")


async def test_lookups_by_message_id_have_only_the_primary_key_to_choose(stack: Settings) -> None:
    """While statistics lag a new tenant, the planner may probe any index that starts with
    tenant_id by tenant alone, filtering all of the tenant's rows for each message id. On
    the tables read by message id in bulk, the only such index is (tenant_id, msg_id)."""
    async with await psycopg.AsyncConnection.connect(stack.resolved_database_url()) as conn:
        cur = await conn.execute(
            """SELECT c.relname,
                      array(SELECT a.attname
                            FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)
                            JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                            ORDER BY k.n)
               FROM pg_index x
               JOIN pg_class c ON c.oid = x.indrelid
               JOIN pg_namespace ns ON ns.oid = c.relnamespace
               WHERE ns.nspname = 'public' AND c.relname IN ('raw_messages', 'evaluations')
                 AND x.indpred IS NULL  -- a partial index is chosen only by its predicate"""
        )
        leading = {(table, tuple(cols)) for table, cols in await cur.fetchall()}
    assert {(t, cols) for t, cols in leading if cols[0] == "tenant_id"} == {
        ("raw_messages", ("tenant_id", "msg_id")),
        ("evaluations", ("tenant_id", "msg_id")),
    }


async def test_no_table_keeps_statistics_on_tenant_id(stack: Settings) -> None:
    """Statistics on tenant_id are stale for a new or fast-growing tenant (estimated at zero
    rows), which sent lookups by key through indexes probed by tenant alone; without them,
    the planner takes each tenant for an average one and uses the key's index."""
    async with await psycopg.AsyncConnection.connect(
        stack.resolved_database_url(), autocommit=True
    ) as conn:
        cur = await conn.execute(
            """SELECT n.nspname || '.' || c.relname, coalesce(a.attstattarget, -1)
               FROM pg_attribute a
               JOIN pg_class c ON c.oid = a.attrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE a.attname = 'tenant_id' AND NOT a.attisdropped
                 AND c.relkind IN ('r', 'p') AND n.nspname IN ('public', 'archive')"""
        )
        targets = dict(await cur.fetchall())
        await conn.execute("ANALYZE payments, postings, raw_messages")
        cur = await conn.execute(
            "SELECT tablename FROM pg_stats WHERE attname = 'tenant_id'"
            " AND schemaname IN ('public', 'archive')"
        )
        analysed = [row[0] for row in await cur.fetchall()]
    assert len(targets) > 30  # every multi-tenant table, the archive's too
    assert {table: target for table, target in targets.items() if target != 0} == {}
    assert analysed == []


async def test_existing_wallets_get_virtual_account_numbers_of_their_own_in_the_migration(
    empty_database: str, tmp_path: Path
) -> None:
    """Before 0031 a wallet's number was derived from a hash of it; the migration allocates
    one to every existing wallet (in the order they were created, one sequence across
    tenants), hands pending auto top-up requests the new number, and new wallets continue
    the sequence."""
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if int(path.name[:4]) < 31:
            shutil.copy(path, tmp_path / path.name)
    await migrate(empty_database, tmp_path)
    wallets = [("t1", "budi"), ("t2", "budi"), ("t1", "sari")]  # the same id in two tenants
    async with await psycopg.AsyncConnection.connect(empty_database, autocommit=True) as conn:
        for tenant in ("t1", "t2"):
            await conn.execute("INSERT INTO tenants (id, name) VALUES (%s, 'T')", (tenant,))
            await conn.execute(
                "INSERT INTO schools (tenant_id, id, name) VALUES (%s, 'sd', 'SD')", (tenant,)
            )
        for n, (tenant, student) in enumerate(wallets):
            await conn.execute(
                "INSERT INTO ledger_accounts (tenant_id, id, kind, owner_id) "
                "VALUES (%s, %s, 'student_wallet', %s)",
                (tenant, f"wallet:{student}", student),
            )
            await conn.execute(
                "INSERT INTO students (tenant_id, id, school_id, display_name, account_id, "
                "created_at) VALUES (%s, %s, 'sd', 'X', %s, now() + make_interval(secs => %s))",
                (tenant, student, f"wallet:{student}", n),
            )
        for request, status in (("pending-1", "pending"), ("sent-1", "sent")):
            await conn.execute(
                "INSERT INTO topup_requests (tenant_id, id, student_id, virtual_account, "
                "amount, cause, status) VALUES ('t1', %s, 'sari', '8808000000000000', 1000, "
                "'cause', %s)",
                (request, status),
            )
    shutil.copy(MIGRATIONS_DIR / "0031_virtual_accounts.sql", tmp_path)
    await migrate(empty_database, tmp_path)
    async with await psycopg.AsyncConnection.connect(empty_database, autocommit=True) as conn:
        given = dict(
            ((t, s), va)
            for t, s, va in await (
                await conn.execute("SELECT tenant_id, id, virtual_account FROM students")
            ).fetchall()
        )
        assert given == {w: virtual_account_number(n + 1) for n, w in enumerate(wallets)}
        requests = dict(
            await (await conn.execute("SELECT id, virtual_account FROM topup_requests")).fetchall()
        )
        # what went to the bank went with the old number; what waits goes with the new one
        assert requests == {"pending-1": given[("t1", "sari")], "sent-1": "8808000000000000"}
        await conn.execute(
            "INSERT INTO ledger_accounts (tenant_id, id, kind) "
            "VALUES ('t2', 'wallet:sari', 'student_wallet')"
        )
        await conn.execute(
            "INSERT INTO students (tenant_id, id, school_id, display_name, account_id) "
            "VALUES ('t2', 'sari', 'sd', 'X', 'wallet:sari')"
        )
        new = await (
            await conn.execute(
                "SELECT virtual_account FROM students WHERE tenant_id = 't2' AND id = 'sari'"
            )
        ).fetchone()
        assert new is not None and new[0] == virtual_account_number(4)
