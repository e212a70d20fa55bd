"""Schools, canteen merchants, kiosks, categories, students and guardians, with the ledger
accounts they own. Used by the admin API, the CLI, the simulator and tests.

Every create is idempotent for the same id and refuses a clash with a clear reason.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass
from datetime import time
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from activities.wallet.ledger import Ledger
from core.db import Pool
from core.refusals import Refusal
from core.security import hash_pin

TOPUP_CLEARING = "clearing:topups"


def wallet_account(student_id: str) -> str:
    return f"wallet:{student_id}"


def debt_account(student_id: str) -> str:
    return f"debt:{student_id}"


def merchant_account(merchant_id: str) -> str:
    return f"merchant:{merchant_id}"


class DirectoryError(Refusal):
    """A request that cannot be carried out; the message says why (and the code, where a
    page shows it)."""


class NotFound(DirectoryError):
    pass


class Conflict(DirectoryError):
    pass


@dataclass(frozen=True)
class Controls:
    daily_limit: Decimal | None = None
    weekly_limit: Decimal | None = None
    low_balance_threshold: Decimal | None = None


@dataclass(frozen=True)
class CategoryControl:
    category_id: str
    blocked: bool = False
    daily_limit: Decimal | None = None


@dataclass(frozen=True)
class OfflineCaps:
    """A school's limits on sales its kiosks make offline."""

    per_student_per_day: Decimal
    per_kiosk_unsynced: Decimal


_ROSTER = (
    "SELECT id, display_name FROM students WHERE tenant_id = %s AND school_id = %s "
    "AND status = 'active' ORDER BY id LIMIT %s"
)


_REFERENCED = re.compile(r'is not present in table "([a-z_]+)"')


def _explain(err: psycopg.Error, what: str) -> DirectoryError:
    """The reason in Saku's words: never the database's own message, which names its
    tables, keys and values (it goes to the log, chained, instead)."""
    if isinstance(err, psycopg.errors.ForeignKeyViolation):
        table = _REFERENCED.search(err.diag.message_detail or "")
        missing = table.group(1).removesuffix("s").replace("_", " ") if table else "record"
        return NotFound(
            f"{what}: it refers to a {missing} that does not exist", "missing_reference"
        )
    if isinstance(err, psycopg.errors.CheckViolation):
        return DirectoryError(f"{what}: a value is out of range or badly formed", "value_range")
    return DirectoryError(f"{what}: a value is not valid here", "value_invalid")


class Directory:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.ledger = Ledger(pool)

    async def _insert(self, what: str, sql: str, params: tuple[Any, ...]) -> bool:
        """Insert one row; False if it existed already."""
        try:
            async with self.pool.connection() as conn:
                cur = await conn.execute(sql + " ON CONFLICT DO NOTHING", params)
                return cur.rowcount == 1
        except (psycopg.errors.IntegrityError, psycopg.errors.DataError) as err:
            raise _explain(err, what) from err

    async def create_school(
        self,
        tenant: str,
        school_id: str,
        name: str,
        *,
        timezone: str = "Asia/Jakarta",
        canteen_opens: time = time(6, 30),
        canteen_closes: time = time(15, 0),
        balance_cap: Decimal | None = None,
        offline_student_cap: Decimal = Decimal(25_000),
        offline_kiosk_cap: Decimal = Decimal(1_000_000),
    ) -> bool:
        await self.ledger.open_account(tenant, TOPUP_CLEARING, "topup_clearing")
        return await self._insert(
            f"school {school_id!r}",
            "INSERT INTO schools (tenant_id, id, name, timezone, canteen_opens, canteen_closes, "
            "balance_cap, offline_student_cap, offline_kiosk_cap) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                tenant,
                school_id,
                name,
                timezone,
                canteen_opens,
                canteen_closes,
                balance_cap,
                offline_student_cap,
                offline_kiosk_cap,
            ),
        )

    async def create_merchant(
        self, tenant: str, school_id: str, merchant_id: str, name: str
    ) -> bool:
        account = merchant_account(merchant_id)
        await self.ledger.open_account(tenant, account, "merchant_settlement", merchant_id)
        return await self._insert(
            f"merchant {merchant_id!r}",
            "INSERT INTO merchants (tenant_id, id, school_id, name, account_id) "
            "VALUES (%s, %s, %s, %s, %s)",
            (tenant, merchant_id, school_id, name, account),
        )

    async def create_kiosk(
        self, tenant: str, school_id: str, merchant_id: str, kiosk_id: str, name: str
    ) -> bool:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT school_id FROM merchants WHERE tenant_id = %s AND id = %s",
                (tenant, merchant_id),
            )
            row = await cur.fetchone()
        if row is None or row["school_id"] != school_id:
            raise NotFound(
                f"school {school_id!r} has no merchant {merchant_id!r}",
                "no_merchant",
                school=school_id,
                merchant=merchant_id,
            )
        return await self._insert(
            f"kiosk {kiosk_id!r}",
            "INSERT INTO kiosks (tenant_id, id, school_id, merchant_id, name) "
            "VALUES (%s, %s, %s, %s, %s)",
            (tenant, kiosk_id, school_id, merchant_id, name),
        )

    async def create_category(self, tenant: str, category_id: str, name: str) -> bool:
        return await self._insert(
            f"category {category_id!r}",
            "INSERT INTO product_categories (tenant_id, id, name) VALUES (%s, %s, %s)",
            (tenant, category_id, name),
        )

    async def create_student(
        self,
        tenant: str,
        school_id: str,
        student_id: str,
        display_name: str,
        *,
        grade: str | None = None,
        pin: str | None = None,
    ) -> bool:
        account = wallet_account(student_id)
        await self.ledger.open_account(tenant, account, "student_wallet", student_id)
        await self.ledger.open_account(tenant, debt_account(student_id), "offline_debt", student_id)
        pin_hash = hash_pin(pin) if pin else None
        return await self._insert(
            f"student {student_id!r}",
            "INSERT INTO students (tenant_id, id, school_id, display_name, grade, account_id, "
            "pin_hash) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (tenant, student_id, school_id, display_name, grade, account, pin_hash),
        )

    async def set_student_status(self, tenant: str, student_id: str, status: str) -> None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE students SET status = %s WHERE tenant_id = %s AND id = %s",
                (status, tenant, student_id),
            )
            if cur.rowcount != 1:
                raise NotFound(f"no student {student_id!r}")

    async def create_guardian(
        self,
        tenant: str,
        guardian_id: str,
        display_name: str,
        *,
        user_id: str | None = None,
        webhook_url: str | None = None,
    ) -> bool:
        if user_id is not None:
            await self._check_guardian_user(tenant, user_id)
        return await self._insert(
            f"guardian {guardian_id!r}",
            "INSERT INTO guardians (tenant_id, id, user_id, display_name, webhook_url) "
            "VALUES (%s, %s, %s, %s, %s)",
            (tenant, guardian_id, user_id, display_name, webhook_url),
        )

    async def _check_guardian_user(self, tenant: str, user_id: str) -> None:
        """A guardian signs in as a guardian user of its own tenant, never of another: the
        user's token would otherwise list this tenant's students."""
        try:
            uuid.UUID(user_id)
        except ValueError:
            raise DirectoryError(f"user_id {user_id!r} is not a user id (a UUID)") from None
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT role FROM users WHERE id = %s AND tenant_id = %s", (user_id, tenant)
            )
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"this tenant has no user {user_id}")
        if row["role"] != "guardian":
            raise DirectoryError(f"user {user_id} is a {row['role']} user, not a guardian")

    async def link_guardian(self, tenant: str, guardian_id: str, student_id: str) -> bool:
        return await self._insert(
            f"guardian {guardian_id!r} of student {student_id!r}",
            "INSERT INTO student_guardians (tenant_id, student_id, guardian_id) "
            "VALUES (%s, %s, %s)",
            (tenant, student_id, guardian_id),
        )

    async def student_school(self, tenant: str, student_id: str) -> str:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT school_id FROM students WHERE tenant_id = %s AND id = %s",
                (tenant, student_id),
            )
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"no student {student_id!r}")
        return str(row["school_id"])

    async def has_student(self, tenant: str, student_id: str) -> bool:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT 1 FROM students WHERE tenant_id = %s AND id = %s", (tenant, student_id)
            )
            return await cur.fetchone() is not None

    async def student_of_virtual_account(self, tenant: str, number: str) -> str | None:
        """The student whose wallet has this virtual account number in this tenant, if any
        (a number of another tenant's wallet names none here)."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT id FROM students WHERE tenant_id = %s AND virtual_account = %s",
                (tenant, number),
            )
            row = await cur.fetchone()
        return None if row is None else str(row["id"])

    async def display_name(self, tenant: str, school_id: str, student_id: str) -> str | None:
        """The name a kiosk of the school greets the student by; None for a student of
        another school (or none): a kiosk learns no names beyond its own school's."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT display_name FROM students WHERE tenant_id = %s AND id = %s "
                "AND school_id = %s",
                (tenant, student_id, school_id),
            )
            row = await cur.fetchone()
        return None if row is None else str(row["display_name"])

    async def roster(self, tenant: str, school_id: str, limit: int) -> list[tuple[str, str]]:
        """The school's active students a kiosk may greet offline: (id, display name), by
        id, at most `limit` of them."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(_ROSTER, (tenant, school_id, limit))
            rows = await cur.fetchall()
        return [(str(r["id"]), str(r["display_name"])) for r in rows]

    async def roster_version(self, tenant: str, school_id: str, limit: int) -> str:
        """A fingerprint of what `roster` returns now: it changes when a name is added,
        changed or removed. Computed in the database, so the names stay there when a kiosk
        asks with every config request."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT encode(sha256(convert_to(coalesce(string_agg(id || E'\\t' || "
                "display_name, E'\\n' ORDER BY id), ''), 'UTF8')), 'hex') AS version "
                f"FROM ({_ROSTER}) AS roster",
                (tenant, school_id, limit),
            )
            row = await cur.fetchone()
        assert row is not None  # an aggregate always answers
        return str(row["version"])

    async def categories(self, tenant: str) -> list[tuple[str, str]]:
        """The product categories kiosks may tag sales with: (id, name), by name."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT id, name FROM product_categories WHERE tenant_id = %s ORDER BY name, id",
                (tenant,),
            )
            rows = await cur.fetchall()
        return [(str(r["id"]), str(r["name"])) for r in rows]

    async def pin_hash(self, tenant: str, student_id: str) -> str | None:
        """The student's kiosk PIN, hashed; None without a PIN (or without the student)."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT pin_hash FROM students WHERE tenant_id = %s AND id = %s",
                (tenant, student_id),
            )
            row = await cur.fetchone()
        return None if row is None else row["pin_hash"]

    async def guardian_signing_in_as(self, tenant: str, user_id: str) -> str | None:
        """The id of the guardian record that signs in as this user, if any."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT id FROM guardians WHERE tenant_id = %s AND user_id::text = %s",
                (tenant, user_id),
            )
            row = await cur.fetchone()
        return None if row is None else str(row["id"])

    async def offline_caps(self, tenant: str, school_id: str) -> OfflineCaps | None:
        """What the school's kiosks may sell offline; None if there is no such school."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT offline_student_cap, offline_kiosk_cap FROM schools "
                "WHERE tenant_id = %s AND id = %s",
                (tenant, school_id),
            )
            row = await cur.fetchone()
        if row is None:
            return None
        return OfflineCaps(row["offline_student_cap"], row["offline_kiosk_cap"])

    async def controls(
        self, tenant: str, student_id: str
    ) -> tuple[Controls, list[CategoryControl]]:
        await self.student_school(tenant, student_id)
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT daily_limit, weekly_limit, low_balance_threshold "
                    "FROM student_controls WHERE tenant_id = %s AND student_id = %s",
                    (tenant, student_id),
                )
            ).fetchone()
            categories = await (
                await conn.execute(
                    "SELECT category_id, blocked, daily_limit FROM student_category_controls "
                    "WHERE tenant_id = %s AND student_id = %s ORDER BY category_id",
                    (tenant, student_id),
                )
            ).fetchall()
        controls = Controls(**row) if row else Controls()
        return controls, [CategoryControl(**c) for c in categories]

    async def set_controls(
        self,
        tenant: str,
        student_id: str,
        controls: Controls,
        updated_by: str,
        *,
        actor_role: str = "system",
    ) -> None:
        """Set the limits and threshold, audited (effective on the student's next payment:
        the authorisation reads them at each payment)."""
        try:
            async with self.pool.connection() as conn, conn.transaction():
                await conn.execute(
                    """INSERT INTO student_controls (tenant_id, student_id, daily_limit,
                           weekly_limit, low_balance_threshold, updated_by)
                       VALUES (%s, %s, %s, %s, %s, %s)
                       ON CONFLICT (tenant_id, student_id) DO UPDATE SET
                           daily_limit = EXCLUDED.daily_limit,
                           weekly_limit = EXCLUDED.weekly_limit,
                           low_balance_threshold = EXCLUDED.low_balance_threshold,
                           updated_by = EXCLUDED.updated_by, updated_at = now()""",
                    (
                        tenant,
                        student_id,
                        controls.daily_limit,
                        controls.weekly_limit,
                        controls.low_balance_threshold,
                        updated_by,
                    ),
                )
                await audit(
                    conn,
                    tenant,
                    updated_by,
                    actor_role,
                    "controls.set",
                    f"student:{student_id}",
                    {k: _text(v) for k, v in asdict(controls).items()},
                )
        except psycopg.errors.IntegrityError as err:
            raise _explain(err, f"controls of student {student_id!r}") from err

    async def set_category_control(
        self,
        tenant: str,
        student_id: str,
        control: CategoryControl,
        *,
        by: str = "system",
        actor_role: str = "system",
    ) -> None:
        """Block a category or limit it per day for the student, audited."""
        try:
            async with self.pool.connection() as conn, conn.transaction():
                await conn.execute(
                    """INSERT INTO student_category_controls (tenant_id, student_id,
                           category_id, blocked, daily_limit) VALUES (%s, %s, %s, %s, %s)
                       ON CONFLICT (tenant_id, student_id, category_id) DO UPDATE SET
                           blocked = EXCLUDED.blocked, daily_limit = EXCLUDED.daily_limit""",
                    (tenant, student_id, control.category_id, control.blocked, control.daily_limit),
                )
                await audit(
                    conn,
                    tenant,
                    by,
                    actor_role,
                    "controls.category_set",
                    f"student:{student_id}",
                    {k: _text(v) for k, v in asdict(control).items()},
                )
        except psycopg.errors.IntegrityError as err:
            raise _explain(err, f"category {control.category_id!r}") from err

    async def clear_category_control(
        self,
        tenant: str,
        student_id: str,
        category_id: str,
        *,
        by: str = "system",
        actor_role: str = "system",
    ) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "DELETE FROM student_category_controls "
                "WHERE tenant_id = %s AND student_id = %s AND category_id = %s",
                (tenant, student_id, category_id),
            )
            if cur.rowcount:
                await audit(
                    conn,
                    tenant,
                    by,
                    actor_role,
                    "controls.category_cleared",
                    f"student:{student_id}",
                    {"category_id": category_id},
                )


def _text(value: object) -> object:
    return f"{value:f}" if isinstance(value, Decimal) else value


async def audit(
    conn: psycopg.AsyncConnection[Any],
    tenant: str,
    actor: str,
    actor_role: str,
    action: str,
    target: str,
    details: dict[str, Any],
    reason: str = "",
) -> None:
    """An audit_log row in the caller's transaction (so it exists exactly when the change
    does)."""
    await conn.execute(
        "INSERT INTO audit_log (tenant_id, actor, actor_role, action, target, reason, details) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (tenant, actor, actor_role, action, target, reason or action, Jsonb(details)),
    )
