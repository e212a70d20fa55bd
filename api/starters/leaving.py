"""A student leaves the school: the one way the JSON API and the school office do it.

In one database transaction the student is marked as left (they can no longer pay) and
their balance is posted into payouts pending for a guardian (`Payouts.leave`); then their
biometric data is erased everywhere (the erasure workflow) and the payout request goes to
the bank (the `Payout` workflow, once per payout). Asked again for a student who has
left, nothing is posted again, and both workflows are started again if they are not
running: a request that failed half-way finishes on the retry.
"""

from __future__ import annotations

from activities.wallet.payouts import Leaving, Payouts
from api.resources import Resources
from api.routes.biometrics import start_erasure
from core.biometrics.types import ErasureRequest
from core.security import Principal
from core.temporal.start import Labels, start_by_key
from core.wallet.types import PayoutRef, payout_workflow_id
from workflows.wallet import PayoutWorkflow


async def student_leaves(
    resources: Resources,
    payouts: Payouts,
    principal: Principal,
    school_id: str,
    student_id: str,
    reason: str,
    guardian_id: str | None = None,
) -> Leaving:
    """Raises the stores' DirectoryError (NotFound, Conflict) when it cannot be done."""
    tenant = principal.tenant
    leaving = await payouts.leave(
        tenant,
        school_id,
        student_id,
        guardian_id,
        reason,
        principal.subject,
        principal.role.value,
    )
    client = await resources.temporal()
    task_queue = resources.settings.task_queue
    # biometric data goes with the student, everywhere
    await start_erasure(
        client, task_queue, ErasureRequest(tenant, student_id, reason, principal.subject)
    )
    if leaving.payout is not None and leaving.payout.status == "requested":
        await start_by_key(
            client,
            PayoutWorkflow.run,
            PayoutRef(tenant, leaving.payout.id),
            id=payout_workflow_id(tenant, leaving.payout.id),
            task_queue=task_queue,
            labels=Labels(tenant, "payout", school=school_id),
        )
    return leaving
