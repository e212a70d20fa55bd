"""A student leaves the school: the one way the JSON API, the school office and `saku
simulate` do it; and a payout the bank rejected is sent again.

In one database transaction the student is marked as left (they can no longer pay) and
their balance is posted into payouts pending for a guardian (`Payouts.leave`); then their
biometric data is erased everywhere (the erasure workflow) and the payout request goes to
the bank (the `Payout` workflow, once per payout). Asked again for a student who has
left, nothing is posted again, and both workflows are started again if they are not
running: a request that failed half-way finishes on the retry. A payout sent again is a
new payout (`Payouts.send_again`) with a `Payout` workflow of its own.
"""

from __future__ import annotations

from temporalio.client import Client

from activities.wallet.payouts import Leaving, Payout, Payouts, SentAgain
from api.routes.biometrics import start_erasure
from core.biometrics.types import ErasureRequest
from core.security import Principal
from core.temporal.start import Labels, start_by_key
from core.wallet.types import PayoutRef, payout_workflow_id
from workflows.wallet import PayoutWorkflow


async def student_leaves(
    client: Client,
    task_queue: str,
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
    # biometric data goes with the student, everywhere
    await start_erasure(
        client, task_queue, ErasureRequest(tenant, student_id, reason, principal.subject)
    )
    if leaving.payout is not None:
        await _to_the_bank(client, task_queue, tenant, school_id, leaving.payout)
    return leaving


async def send_payout_again(
    client: Client,
    task_queue: str,
    payouts: Payouts,
    principal: Principal,
    school_id: str,
    payout_id: str,
    guardian_id: str | None = None,
) -> SentAgain:
    """A rejected payout to the bank again (to `guardian_id`, or the same guardian). Raises
    the stores' DirectoryError (NotFound, Conflict) when it cannot be done."""
    again = await payouts.send_again(
        principal.tenant,
        school_id,
        payout_id,
        guardian_id,
        principal.subject,
        principal.role.value,
    )
    await _to_the_bank(client, task_queue, principal.tenant, school_id, again.payout)
    return again


async def _to_the_bank(
    client: Client, task_queue: str, tenant: str, school_id: str, payout: Payout
) -> None:
    """The payout's `Payout` workflow, unless the request is on the topic already."""
    if payout.status == "requested":
        await start_by_key(
            client,
            PayoutWorkflow.run,
            PayoutRef(tenant, payout.id),
            id=payout_workflow_id(tenant, payout.id),
            task_queue=task_queue,
            labels=Labels(tenant, "payout", school=school_id),
        )
