"""After a point-in-time restore: evaluate the messages the restore kept without their
evaluation.

A message stored before the restore point whose evaluation was written after it comes back
stored but not evaluated, while the restored offsets are already past it: Kafka does not
bring it again, and nothing else would start its evaluation. The consumer sweeps once per
restore (`dr_restores`), before it reads the stream.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from activities.dr.restores import Restores, Unevaluated
from api.intake.service import Intake

log = logging.getLogger(__name__)
PAGE = 500  # messages per query, and at most per batch workflow


async def evaluate_what_restores_lost(intake: Intake, restores: Restores) -> int:
    """For each restore not swept yet, start the evaluation of every stream message stored
    before its restore point and never evaluated, page by page, then mark it swept. Returns
    how many were started. Idempotent: a sweep cut short is done again at the next start,
    and a message evaluated twice is stored once (by its id). While another consumer
    sweeps, this one leaves it to that one."""
    if not await restores.unswept():
        return 0
    started = 0
    async with restores.sweeping() as mine:
        if not mine:
            return 0
        for restore in await restores.unswept():
            after: Unevaluated | None = None
            while page := await restores.unevaluated(restore, after, PAGE):
                by_tenant: dict[str, list[Unevaluated]] = defaultdict(list)
                for message in page:
                    by_tenant[message.tenant_id].append(message)
                for tenant, messages in by_tenant.items():
                    await intake.evaluate_again(
                        tenant,
                        [m.msg_id for m in messages],
                        {m.msg_id: m.tx_type for m in messages},
                    )
                started += len(page)
                after = page[-1]
            await restores.swept(restore.epoch)
            log.info(
                "evaluations a restore lost started again",
                extra={"epoch": restore.epoch, "started": started},
            )
    return started
