"""The biometric workflows' side effects, given the vault and the kiosk command queue."""

from __future__ import annotations

from psycopg.types.json import Jsonb
from temporalio import activity

from activities.biometrics.sensors import SensorCommands
from activities.biometrics.vault import TemplateVault
from core.biometrics.types import (
    ErasureRequest,
    Outstanding,
    TemplateRef,
)


class BiometricActivities:
    def __init__(self, vault: TemplateVault, commands: SensorCommands) -> None:
        self.vault = vault
        self.commands = commands

    @activity.defn(name="biometrics.queue_loads")
    async def queue_loads(self, ref: TemplateRef) -> int:
        return await self.commands.queue_loads(ref.tenant_id, ref.student_id, ref.finger)

    @activity.defn(name="biometrics.outstanding")
    async def outstanding(self, query: Outstanding) -> list[str]:
        return await self.commands.outstanding(query.tenant_id, query.student_id, query.action)

    @activity.defn(name="biometrics.erase_at_rest")
    async def erase_at_rest(self, request: ErasureRequest) -> list[int]:
        """Crypto-shred and delete the ciphertexts, then queue deletes for every kiosk.
        Idempotent: a retry finds nothing left to destroy and the deletes already queued."""
        erased = await self.vault.erase(
            request.tenant_id, request.student_id, request.actor, request.reason
        )
        await self.commands.queue_deletes(request.tenant_id, request.student_id)
        return erased.fingers

    @activity.defn(name="biometrics.record_erased")
    async def record_erased(self, request: ErasureRequest) -> None:
        """The audit record that the templates are gone from every kiosk, and when."""
        kiosks = await self.commands.confirmed(request.tenant_id, request.student_id, "delete")
        async with self.vault.pool.connection() as conn:
            await conn.execute(
                """INSERT INTO audit_log (tenant_id, actor, actor_role, action, target, reason,
                       details) VALUES (%s, %s, 'system', 'biometric.erase_kiosks', %s, %s, %s)""",
                (
                    request.tenant_id,
                    request.actor,
                    f"student:{request.student_id}",
                    request.reason,
                    Jsonb({"kiosks": [{"kiosk": k, "deletedAt": at} for k, at in kiosks]}),
                ),
            )
