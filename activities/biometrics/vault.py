"""Encrypted fingerprint templates: AES-256-GCM under a per-student data key, the data key
wrapped by the key-encryption key (KEK). Nothing here ever logs or returns key material
except `open`, which hands a template to the kiosk path that loads it into a sensor.

Every ciphertext carries associated data binding it to tenant, student, finger, key version
and format version, so a ciphertext moved to another student's row fails to decrypt.
Erasure deletes the wrapped data key (crypto-shredding every copy, backups included) and
the ciphertexts, and records what was destroyed in the audit log.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from activities.biometrics.keyring import KeyRing
from core.db import Pool

FORMAT_VERSION = 1  # ZhianTec 512-byte characteristics, as the sensor exports them


class VaultError(RuntimeError):
    """A template cannot be sealed or opened; the message never carries key material."""


@dataclass(frozen=True)
class Erased:
    student_id: str
    fingers: list[int]
    key_version: int | None


def _template_aad(tenant: str, student: str, finger: int, key_version: int) -> bytes:
    return f"saku-template|{tenant}|{student}|{finger}|{key_version}|{FORMAT_VERSION}".encode()


def _key_aad(tenant: str, student: str, key_version: int, kek_version: int) -> bytes:
    return f"saku-data-key|{tenant}|{student}|{key_version}|{kek_version}".encode()


class TemplateVault:
    def __init__(self, pool: Pool, keyring: KeyRing) -> None:
        self.pool = pool
        self.keyring = keyring

    async def _data_key(
        self, conn: AsyncConnection[DictRow], tenant: str, student: str, *, create: bool
    ) -> tuple[bytes, int] | None:
        row = await (
            await conn.execute(
                "SELECT key_version, kek_version, wrap_nonce, wrapped_key FROM biometric_data_keys "
                "WHERE tenant_id = %s AND student_id = %s FOR UPDATE",
                (tenant, student),
            )
        ).fetchone()
        if row is not None:
            kek = AESGCM(self.keyring.key(row["kek_version"]))
            aad = _key_aad(tenant, student, row["key_version"], row["kek_version"])
            try:
                return kek.decrypt(row["wrap_nonce"], row["wrapped_key"], aad), row["key_version"]
            except InvalidTag:
                raise VaultError(f"the data key of student {student!r} does not unwrap") from None
        if not create:
            return None
        data_key, nonce = AESGCM.generate_key(bit_length=256), os.urandom(12)
        version = self.keyring.current
        wrapped = AESGCM(self.keyring.key(version)).encrypt(
            nonce, data_key, _key_aad(tenant, student, 1, version)
        )
        await conn.execute(
            "INSERT INTO biometric_data_keys (tenant_id, student_id, key_version, kek_version, "
            "wrap_nonce, wrapped_key) VALUES (%s, %s, 1, %s, %s, %s)",
            (tenant, student, version, nonce, wrapped),
        )
        return data_key, 1

    async def seal(self, tenant: str, student: str, finger: int, template: bytes) -> None:
        """Store (or replace) one finger's template, encrypted."""
        async with self.pool.connection() as conn, conn.transaction():
            found = await self._data_key(conn, tenant, student, create=True)
            assert found is not None
            data_key, key_version = found
            nonce = os.urandom(12)  # fresh for every encryption, never reused with this key
            ciphertext = AESGCM(data_key).encrypt(
                nonce, template, _template_aad(tenant, student, finger, key_version)
            )
            await conn.execute(
                """INSERT INTO biometric_templates (tenant_id, student_id, finger, key_version,
                       format_version, nonce, ciphertext) VALUES (%s, %s, %s, %s, %s, %s, %s)
                   ON CONFLICT (tenant_id, student_id, finger) DO UPDATE SET
                       key_version = EXCLUDED.key_version, nonce = EXCLUDED.nonce,
                       ciphertext = EXCLUDED.ciphertext, enrolled_at = now()""",
                (tenant, student, finger, key_version, FORMAT_VERSION, nonce, ciphertext),
            )

    async def open(self, tenant: str, student: str, finger: int) -> bytes:
        async with self.pool.connection() as conn, conn.transaction():
            row = await (
                await conn.execute(
                    "SELECT key_version, nonce, ciphertext FROM biometric_templates "
                    "WHERE tenant_id = %s AND student_id = %s AND finger = %s",
                    (tenant, student, finger),
                )
            ).fetchone()
            found = await self._data_key(conn, tenant, student, create=False)
        if row is None or found is None:
            raise VaultError(f"student {student!r} has no template for finger {finger}")
        data_key, _ = found
        aad = _template_aad(tenant, student, finger, row["key_version"])
        try:
            return AESGCM(data_key).decrypt(row["nonce"], row["ciphertext"], aad)
        except InvalidTag:
            raise VaultError(f"the template of student {student!r} does not decrypt") from None

    async def fingers(self, tenant: str, student: str) -> list[int]:
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT finger FROM biometric_templates WHERE tenant_id = %s "
                    "AND student_id = %s ORDER BY finger",
                    (tenant, student),
                )
            ).fetchall()
        return [r["finger"] for r in rows]

    async def erase(self, tenant: str, student: str, actor: str, reason: str) -> Erased:
        """Destroy the data key and the ciphertexts, and say so in the audit log."""
        async with self.pool.connection() as conn, conn.transaction():
            fingers = [
                r["finger"]
                for r in await (
                    await conn.execute(
                        "DELETE FROM biometric_templates WHERE tenant_id = %s AND student_id = %s "
                        "RETURNING finger",
                        (tenant, student),
                    )
                ).fetchall()
            ]
            key = await (
                await conn.execute(
                    "DELETE FROM biometric_data_keys WHERE tenant_id = %s AND student_id = %s "
                    "RETURNING key_version, kek_version",
                    (tenant, student),
                )
            ).fetchone()
            erased = Erased(student, sorted(fingers), key["key_version"] if key else None)
            await conn.execute(
                """INSERT INTO audit_log (tenant_id, actor, actor_role, action, target, reason,
                       details) VALUES (%s, %s, 'system', 'biometric.erase', %s, %s, %s)""",
                (
                    tenant,
                    actor,
                    f"student:{student}",
                    reason,
                    Jsonb(
                        {
                            "fingers": erased.fingers,
                            "dataKeyVersion": erased.key_version,
                            "destroyed": ["data key", "template ciphertexts"],
                        }
                    ),
                ),
            )
        return erased

    async def rewrap_all(self) -> int:
        """Re-wrap every data key under the keyring's current KEK; returns how many moved."""
        target = self.keyring.current
        moved = 0
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT tenant_id, student_id FROM biometric_data_keys WHERE kek_version <> %s",
                    (target,),
                )
            ).fetchall()
            for row in rows:
                async with conn.transaction():
                    found = await self._data_key(
                        conn, row["tenant_id"], row["student_id"], create=False
                    )
                    if found is None:  # erased meanwhile
                        continue
                    data_key, key_version = found
                    nonce = os.urandom(12)
                    wrapped = AESGCM(self.keyring.key(target)).encrypt(
                        nonce,
                        data_key,
                        _key_aad(row["tenant_id"], row["student_id"], key_version, target),
                    )
                    await conn.execute(
                        "UPDATE biometric_data_keys SET kek_version = %s, wrap_nonce = %s, "
                        "wrapped_key = %s WHERE tenant_id = %s AND student_id = %s",
                        (target, nonce, wrapped, row["tenant_id"], row["student_id"]),
                    )
                    moved += 1
        return moved

    async def kek_versions_in_use(self) -> set[int]:
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute("SELECT DISTINCT kek_version FROM biometric_data_keys")
            ).fetchall()
        return {r["kek_version"] for r in rows}
