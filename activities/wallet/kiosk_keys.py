"""Kiosk signing keys: register, rotate, revoke, list, and the lookup that authenticates.

A kiosk has at most one current key (valid_until NULL, not revoked). Rotation makes a new
key current and leaves the old one valid for a grace period, so requests signed just before
the switch still verify; revocation ends a key at once. Every change writes an audit_log row
in the same transaction, and changes to one kiosk's keys are serialised by locking the
kiosk's row, so two concurrent registrations cannot both become current.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from core.db import Pool
from core.refusals import Refusal
from core.security import Principal

PUBLIC_KEY_BYTES = 32
KeyStatus = Literal["current", "grace", "expired", "revoked"]


class KioskKeyError(Refusal):
    """A key change that cannot be made; the message (and the code) says why (HTTP 400)."""


class KioskKeyNotFound(KioskKeyError):
    """No such kiosk, or no such key on it (HTTP 404)."""


class KioskKeyConflict(KioskKeyError):
    """The kiosk's keys are not in a state that allows this (HTTP 409)."""


@dataclass(frozen=True)
class KioskInfo:
    tenant: str
    kiosk_id: str
    school_id: str
    merchant_id: str
    active: bool


@dataclass(frozen=True)
class KioskKey:
    key_id: str
    public_key: bytes
    created_at: datetime
    valid_until: datetime | None
    revoked_at: datetime | None
    status: KeyStatus


@dataclass(frozen=True)
class ActiveKey:
    """A key that may sign right now, and the kiosk it belongs to."""

    tenant: str
    kiosk_id: str
    key_id: str
    public_key: bytes
    school_id: str
    merchant_id: str
    last_seen_at: datetime | None


def new_key_id() -> str:
    return "k_" + secrets.token_hex(6)


_KEY_COLUMNS = """key_id, public_key, created_at, valid_until, revoked_at,
    CASE WHEN revoked_at IS NOT NULL THEN 'revoked'
         WHEN valid_until IS NULL THEN 'current'
         WHEN valid_until > now() THEN 'grace'
         ELSE 'expired' END AS status"""


def _key(row: dict[str, Any]) -> KioskKey:
    return KioskKey(
        key_id=row["key_id"],
        public_key=bytes(row["public_key"]),
        created_at=row["created_at"],
        valid_until=row["valid_until"],
        revoked_at=row["revoked_at"],
        status=row["status"],
    )


def _target(kiosk_id: str, key_id: str) -> str:
    return f"kiosk:{kiosk_id}/key:{key_id}"


class KioskKeys:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def kiosk(self, tenant: str, kiosk_id: str) -> KioskInfo | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT school_id, merchant_id, active FROM kiosks "
                "WHERE tenant_id = %s AND id = %s",
                (tenant, kiosk_id),
            )
            row = await cur.fetchone()
        if row is None:
            return None
        return KioskInfo(tenant, kiosk_id, row["school_id"], row["merchant_id"], row["active"])

    async def register(
        self,
        tenant: str,
        kiosk_id: str,
        public_key: bytes,
        actor: Principal,
        *,
        reason: str = "first key registered",
    ) -> str:
        """Give a kiosk without a current key its key; returns the new key id."""
        _check_public_key(public_key)
        async with self.pool.connection() as conn, conn.transaction():
            await _lock_kiosk(conn, tenant, kiosk_id)
            current = await _current_key_id(conn, tenant, kiosk_id)
            if current is not None:
                raise KioskKeyConflict(
                    f"kiosk {kiosk_id!r} already has a current key ({current}): "
                    "use rotate to replace it",
                    "key_current_exists",
                    kiosk=kiosk_id,
                    key_id=current,
                )
            key_id = await _insert_key(conn, tenant, kiosk_id, public_key)
            await _audit(
                conn,
                tenant,
                actor,
                "kiosk_key.register",
                _target(kiosk_id, key_id),
                reason,
                {"public_key_sha256": hashlib.sha256(public_key).hexdigest()},
            )
        return key_id

    async def rotate(
        self,
        tenant: str,
        kiosk_id: str,
        public_key: bytes,
        actor: Principal,
        grace_s: int,
        *,
        reason: str = "key rotation",
    ) -> str:
        """Make a new key current; the old current key stays valid for `grace_s` seconds.
        Returns the new key id."""
        _check_public_key(public_key)
        if grace_s < 0:
            raise KioskKeyError("grace_s must be zero or more seconds", "grace_negative")
        async with self.pool.connection() as conn, conn.transaction():
            await _lock_kiosk(conn, tenant, kiosk_id)
            previous = await _current_key_id(conn, tenant, kiosk_id)
            if previous is None:
                raise KioskKeyConflict(
                    f"kiosk {kiosk_id!r} has no current key to rotate: use register",
                    "no_current_key",
                    kiosk=kiosk_id,
                )
            await conn.execute(
                "UPDATE kiosk_keys SET valid_until = now() + %s "
                "WHERE tenant_id = %s AND kiosk_id = %s AND key_id = %s",
                (timedelta(seconds=grace_s), tenant, kiosk_id, previous),
            )
            key_id = await _insert_key(conn, tenant, kiosk_id, public_key)
            await _audit(
                conn,
                tenant,
                actor,
                "kiosk_key.rotate",
                _target(kiosk_id, key_id),
                reason,
                {
                    "previous_key_id": previous,
                    "grace_s": grace_s,
                    "public_key_sha256": hashlib.sha256(public_key).hexdigest(),
                },
            )
        return key_id

    async def revoke(
        self, tenant: str, kiosk_id: str, key_id: str, actor: Principal, reason: str
    ) -> None:
        """End a key at once (a stolen or retired kiosk)."""
        if not reason.strip():
            raise KioskKeyError("give a reason for revoking the key", "revoke_reason_missing")
        async with self.pool.connection() as conn, conn.transaction():
            await _lock_kiosk(conn, tenant, kiosk_id)
            cur = await conn.execute(
                "SELECT revoked_at FROM kiosk_keys "
                "WHERE tenant_id = %s AND kiosk_id = %s AND key_id = %s",
                (tenant, kiosk_id, key_id),
            )
            row = await cur.fetchone()
            if row is None:
                raise KioskKeyNotFound(
                    f"kiosk {kiosk_id!r} has no key {key_id!r}",
                    "no_key",
                    kiosk=kiosk_id,
                    key_id=key_id,
                )
            if row["revoked_at"] is not None:
                raise KioskKeyConflict(
                    f"key {key_id!r} was already revoked at {row['revoked_at']}",
                    "key_revoked_already",
                    key_id=key_id,
                    at=row["revoked_at"],
                )
            await conn.execute(
                "UPDATE kiosk_keys SET revoked_at = now() "
                "WHERE tenant_id = %s AND kiosk_id = %s AND key_id = %s",
                (tenant, kiosk_id, key_id),
            )
            await _audit(
                conn, tenant, actor, "kiosk_key.revoke", _target(kiosk_id, key_id), reason, {}
            )

    async def list(self, tenant: str, kiosk_id: str) -> list[KioskKey]:
        """Every key the kiosk ever had, newest first."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_KEY_COLUMNS} FROM kiosk_keys WHERE tenant_id = %s AND kiosk_id = %s "
                "ORDER BY created_at DESC, key_id",
                (tenant, kiosk_id),
            )
            return [_key(row) for row in await cur.fetchall()]

    async def get(self, tenant: str, kiosk_id: str, key_id: str) -> KioskKey | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_KEY_COLUMNS} FROM kiosk_keys "
                "WHERE tenant_id = %s AND kiosk_id = %s AND key_id = %s",
                (tenant, kiosk_id, key_id),
            )
            row = await cur.fetchone()
        return None if row is None else _key(row)

    async def lookup(self, tenant: str, kiosk_id: str, key_id: str) -> ActiveKey | None:
        """The key if it may sign now: not revoked, not past valid_until, kiosk active.
        Read on every request (no cache), so a revocation takes effect at once."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                """SELECT kk.public_key, k.school_id, k.merchant_id, k.last_seen_at
                     FROM kiosk_keys kk
                     JOIN kiosks k ON k.tenant_id = kk.tenant_id AND k.id = kk.kiosk_id
                    WHERE kk.tenant_id = %s AND kk.kiosk_id = %s AND kk.key_id = %s
                      AND kk.revoked_at IS NULL
                      AND (kk.valid_until IS NULL OR kk.valid_until > now())
                      AND k.active""",
                (tenant, kiosk_id, key_id),
            )
            row = await cur.fetchone()
        if row is None:
            return None
        return ActiveKey(
            tenant=tenant,
            kiosk_id=kiosk_id,
            key_id=key_id,
            public_key=bytes(row["public_key"]),
            school_id=row["school_id"],
            merchant_id=row["merchant_id"],
            last_seen_at=row["last_seen_at"],
        )

    async def journal_key(self, tenant: str, kiosk_id: str, key_id: str) -> bytes | None:
        """The key an offline sale was signed with, if not revoked: it may have been rotated
        since (the sale was signed before), but a revoked key proves nothing."""
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT public_key FROM kiosk_keys WHERE tenant_id = %s AND kiosk_id = %s "
                    "AND key_id = %s AND revoked_at IS NULL",
                    (tenant, kiosk_id, key_id),
                )
            ).fetchone()
        return None if row is None else bytes(row["public_key"])

    async def refusal(self, tenant: str, kiosk_id: str, key_id: str) -> str:
        """Why lookup found no usable key: for the 401 a kiosk's operator reads. Only run
        on the failure path, so authenticating costs one query."""
        info = await self.kiosk(tenant, kiosk_id)
        if info is None:
            return f"unknown kiosk {kiosk_id!r} in tenant {tenant!r}"
        if not info.active:
            return f"kiosk {kiosk_id!r} is deactivated"
        key = await self.get(tenant, kiosk_id, key_id)
        if key is None:
            return f"unknown key {key_id!r} for kiosk {kiosk_id!r}"
        if key.status == "revoked":
            return f"key {key_id!r} is revoked"
        if key.status == "expired":
            return f"key {key_id!r} expired after a rotation: sign with the current key"
        return f"key {key_id!r} is not usable"  # it became valid between the two reads

    async def touch(self, tenant: str, kiosk_id: str, min_interval_s: int = 60) -> None:
        """Record that the kiosk was seen, at most once per `min_interval_s` (a write per
        request would cost more than the request)."""
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE kiosks SET last_seen_at = now() WHERE tenant_id = %s AND id = %s "
                "AND (last_seen_at IS NULL OR last_seen_at < now() - %s)",
                (tenant, kiosk_id, timedelta(seconds=min_interval_s)),
            )


def _check_public_key(public_key: bytes) -> None:
    if len(public_key) != PUBLIC_KEY_BYTES:
        raise KioskKeyError(
            f"an Ed25519 public key is {PUBLIC_KEY_BYTES} bytes",
            "key_length",
            bytes=PUBLIC_KEY_BYTES,
        )


async def _lock_kiosk(conn: AsyncConnection[DictRow], tenant: str, kiosk_id: str) -> None:
    cur = await conn.execute(
        "SELECT 1 FROM kiosks WHERE tenant_id = %s AND id = %s FOR UPDATE", (tenant, kiosk_id)
    )
    if await cur.fetchone() is None:
        raise KioskKeyNotFound(
            f"no kiosk {kiosk_id!r} in tenant {tenant!r}", "no_kiosk", kiosk=kiosk_id
        )


async def _current_key_id(conn: AsyncConnection[DictRow], tenant: str, kiosk_id: str) -> str | None:
    cur = await conn.execute(
        "SELECT key_id FROM kiosk_keys WHERE tenant_id = %s AND kiosk_id = %s "
        "AND valid_until IS NULL AND revoked_at IS NULL",
        (tenant, kiosk_id),
    )
    row = await cur.fetchone()
    return None if row is None else str(row["key_id"])


async def _insert_key(
    conn: AsyncConnection[DictRow], tenant: str, kiosk_id: str, public_key: bytes
) -> str:
    # A key once used by this kiosk never comes back: re-registering a revoked key would
    # undo its revocation.
    cur = await conn.execute(
        "SELECT key_id FROM kiosk_keys WHERE tenant_id = %s AND kiosk_id = %s AND public_key = %s",
        (tenant, kiosk_id, public_key),
    )
    if (row := await cur.fetchone()) is not None:
        raise KioskKeyConflict(
            f"this public key was already used by kiosk {kiosk_id!r} ({row['key_id']}): "
            "generate a new key pair",
            "key_used_before",
            kiosk=kiosk_id,
            key_id=row["key_id"],
        )
    key_id = new_key_id()
    await conn.execute(
        "INSERT INTO kiosk_keys (tenant_id, kiosk_id, key_id, public_key) VALUES (%s, %s, %s, %s)",
        (tenant, kiosk_id, key_id, public_key),
    )
    return key_id


async def _audit(
    conn: AsyncConnection[DictRow],
    tenant: str,
    actor: Principal,
    action: str,
    target: str,
    reason: str,
    details: dict[str, Any],
) -> None:
    await conn.execute(
        "INSERT INTO audit_log (tenant_id, actor, actor_role, action, target, reason, details) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (tenant, actor.subject, actor.role.value, action, target, reason, Jsonb(details)),
    )
