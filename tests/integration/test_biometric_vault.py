"""Templates at rest: encrypted under a per-student data key, bound to their row, re-wrapped
by key rotation without touching a template, and gone for good after erasure."""

from __future__ import annotations

import json
import os
import stat
import uuid
from pathlib import Path

import pytest

from activities.accounts import create_tenant
from activities.biometrics.keyring import KeyRing, KeyRingError
from activities.biometrics.vault import TemplateVault, VaultError
from activities.wallet.directory import Directory
from core.db import Pool
from core.settings import Settings

pytestmark = pytest.mark.integration


def template() -> bytes:
    half = bytes([0x03, 0x01]) + os.urandom(126) + bytes(128)
    return half + bytes([0x03, 0x01]) + os.urandom(126) + bytes(128)


@pytest.fixture
async def school(pool: Pool) -> tuple[str, list[str]]:
    tenant = f"bio-{uuid.uuid4().hex[:8]}"
    async with pool.connection() as conn:
        await create_tenant(conn, tenant, "Biometrics test")
    directory = Directory(pool)
    await directory.create_school(tenant, "sd", "SD")
    students = ["siti", "budi"]
    for student in students:
        await directory.create_student(tenant, "sd", student, student.title())
    return tenant, students


async def all_bytes(pool: Pool, tenant: str) -> bytes:
    async with pool.connection() as conn:
        rows = await (
            await conn.execute(
                "SELECT t.ciphertext, t.nonce, k.wrapped_key FROM biometric_templates t "
                "JOIN biometric_data_keys k USING (tenant_id, student_id) WHERE t.tenant_id = %s",
                (tenant,),
            )
        ).fetchall()
    return b"".join(bytes(r["ciphertext"]) + bytes(r["wrapped_key"]) for r in rows)


async def test_sealed_templates_open_only_in_their_own_row_and_never_sit_in_plaintext(
    pool: Pool, school: tuple[str, list[str]], stack: Settings
) -> None:
    tenant, (siti, budi) = school
    ring = KeyRing.load(stack.resolved_kek_file())
    assert stat.S_IMODE(stack.resolved_kek_file().stat().st_mode) == 0o600
    vault = TemplateVault(pool, ring)
    siti_t, budi_t = template(), template()
    await vault.seal(tenant, siti, 1, siti_t)
    await vault.seal(tenant, budi, 1, budi_t)
    assert await vault.open(tenant, siti, 1) == siti_t
    stored = await all_bytes(pool, tenant)
    assert siti_t[2:64] not in stored and budi_t[2:64] not in stored

    # swap the ciphertexts between students: the associated data refuses both
    async with pool.connection() as conn:
        await conn.execute(
            """UPDATE biometric_templates t SET ciphertext = o.ciphertext, nonce = o.nonce
               FROM biometric_templates o WHERE t.tenant_id = %s AND o.tenant_id = t.tenant_id
               AND t.student_id = %s AND o.student_id = %s""",
            (tenant, siti, budi),
        )
    with pytest.raises(VaultError, match="does not decrypt"):
        await vault.open(tenant, siti, 1)


async def test_rotation_rewraps_data_keys_and_templates_still_open(
    pool: Pool, school: tuple[str, list[str]], stack: Settings
) -> None:
    """One deployment, one key file: the session stack's (every data key must unwrap)."""
    tenant, (siti, _) = school
    ring = KeyRing.load(stack.resolved_kek_file())
    vault = TemplateVault(pool, ring)
    sealed = template()
    await vault.seal(tenant, siti, 2, sealed)
    old = ring.current
    ring.rotate()
    assert await vault.rewrap_all() >= 1
    assert old not in await vault.kek_versions_in_use()
    assert ring.retire(await vault.kek_versions_in_use()) == [old]
    reloaded = TemplateVault(pool, KeyRing.load(stack.resolved_kek_file(), create=False))
    assert await reloaded.open(tenant, siti, 2) == sealed
    with pytest.raises(KeyRingError):
        reloaded.keyring.key(old)


async def test_erasure_destroys_the_key_and_ciphertexts_and_is_audited(
    pool: Pool, school: tuple[str, list[str]], stack: Settings
) -> None:
    tenant, (siti, budi) = school
    vault = TemplateVault(pool, KeyRing.load(stack.resolved_kek_file()))
    for finger in (1, 6):
        await vault.seal(tenant, siti, finger, template())
    await vault.seal(tenant, budi, 1, template())
    erased = await vault.erase(tenant, siti, "guardian-withdrawal", "consent withdrawn")
    assert (erased.fingers, erased.key_version) == ([1, 6], 1)
    with pytest.raises(VaultError):
        await vault.open(tenant, siti, 1)
    assert await vault.fingers(tenant, siti) == []
    assert await vault.fingers(tenant, budi) == [1]  # nobody else's data is touched
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "SELECT action, reason, details FROM audit_log WHERE tenant_id = %s "
                "AND target = %s",
                (tenant, f"student:{siti}"),
            )
        ).fetchone()
    assert row is not None
    assert (row["action"], row["reason"]) == ("biometric.erase", "consent withdrawn")
    assert row["details"]["fingers"] == [1, 6]


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "kek.json"
    KeyRing.load(path)
    path.chmod(0o644)
    with pytest.raises(KeyRingError, match="chmod 600"):
        KeyRing.load(path)
    other = KeyRing.load(tmp_path / "other.json")
    encoded = json.loads((tmp_path / "other.json").read_text())["keys"]["1"]
    assert encoded not in repr(other) and encoded not in str(other)  # no key material shown
