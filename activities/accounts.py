"""Tenants and users in PostgreSQL (used by the token endpoint, the admin API and the CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from core.db import Pool
from core.security import Principal, Role, hash_password


class AccountError(ValueError):
    """A request that cannot be carried out; the message says why."""


@dataclass(frozen=True)
class User:
    id: str
    tenant_id: str
    username: str
    role: Role
    school_id: str | None
    student_ids: tuple[str, ...]
    disabled: bool
    password_hash: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> User:
        return cls(
            id=str(row["id"]),
            tenant_id=row["tenant_id"],
            username=row["username"],
            role=Role(row["role"]),
            school_id=row["school_id"],
            student_ids=tuple(row["student_ids"] or ()),
            disabled=row["disabled"],
            password_hash=row["password_hash"],
        )

    def principal(self) -> Principal:
        return Principal(self.id, self.role, self.tenant_id, self.school_id, self.student_ids)


async def create_tenant(conn: psycopg.AsyncConnection[Any], tenant_id: str, name: str) -> bool:
    """Create a tenant; returns False if it already existed."""
    try:
        cur = await conn.execute(
            "INSERT INTO tenants (id, name) VALUES (%s, %s) ON CONFLICT (id) DO NOTHING",
            (tenant_id, name),
        )
    except psycopg.errors.CheckViolation as err:
        raise AccountError(
            f"tenant id {tenant_id!r} must be 1-64 letters, digits, '_' or '-'"
        ) from err
    return cur.rowcount == 1


async def create_user(
    conn: psycopg.AsyncConnection[Any],
    *,
    tenant_id: str,
    username: str,
    password: str,
    role: Role,
    school_id: str | None = None,
    student_ids: tuple[str, ...] = (),
) -> User:
    if role is Role.SCHOOL_STAFF and not school_id:
        raise AccountError("a school_staff user must belong to a school (give its school id)")
    try:
        password_hash = hash_password(password)
    except ValueError as err:
        raise AccountError(str(err)) from err
    try:
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                """INSERT INTO users
                       (tenant_id, username, password_hash, role, school_id, student_ids)
                   VALUES (%s, %s, %s, %s, %s, %s) RETURNING *""",
                (tenant_id, username, password_hash, role.value, school_id, list(student_ids)),
            )
            row = await cur.fetchone()
    except psycopg.errors.ForeignKeyViolation as err:
        raise AccountError(f"tenant {tenant_id!r} does not exist: create it first") from err
    except psycopg.errors.UniqueViolation as err:
        raise AccountError(f"username {username!r} is already taken") from err
    except psycopg.errors.CheckViolation as err:
        raise AccountError("username must be 3-64 characters") from err
    assert row is not None
    return User.from_row(row)


async def find_user(conn: psycopg.AsyncConnection[Any], username: str) -> User | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        # a guardian's students: those named on the user, and those linked to the guardian
        # record that signs in as this user (the wallet's directory)
        await cur.execute(
            """SELECT u.*, ARRAY(
                   SELECT DISTINCT s FROM unnest(u.student_ids || ARRAY(
                       SELECT sg.student_id FROM guardians g
                       JOIN student_guardians sg
                         ON sg.tenant_id = g.tenant_id AND sg.guardian_id = g.id
                       WHERE g.user_id = u.id AND g.tenant_id = u.tenant_id)) AS s
                   ORDER BY s) AS student_ids
               FROM users u WHERE u.username = %s""",
            (username,),
        )
        row = await cur.fetchone()
    return User.from_row(row) if row else None


async def list_users(conn: psycopg.AsyncConnection[Any], tenant_id: str) -> list[User]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT * FROM users WHERE tenant_id = %s ORDER BY username", (tenant_id,)
        )
        return [User.from_row(row) for row in await cur.fetchall()]


class Accounts:
    """A tenant's users, over the pool: what the token endpoint and the admin API ask."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def find_user(self, username: str) -> User | None:
        """The user signing in with this name (any tenant: usernames are unique)."""
        async with self.pool.connection() as conn:
            return await find_user(conn, username)

    async def users(self, tenant_id: str) -> list[User]:
        """The tenant's users, by username."""
        async with self.pool.connection() as conn:
            return await list_users(conn, tenant_id)

    async def create_user(
        self,
        *,
        tenant_id: str,
        username: str,
        password: str,
        role: Role,
        school_id: str | None = None,
        student_ids: tuple[str, ...] = (),
    ) -> User:
        """A new user; AccountError says why one cannot be made."""
        async with self.pool.connection() as conn:
            return await create_user(
                conn,
                tenant_id=tenant_id,
                username=username,
                password=password,
                role=role,
                school_id=school_id,
                student_ids=student_ids,
            )
