"""Fingerprint templates reaching, and leaving, every kiosk of a school.

Both workflows carry references only (tenant, student, finger): templates never enter a
workflow history. Each waits until every kiosk has confirmed its command; a kiosk that is
offline confirms when it reconnects, however long that takes. The API signals the workflow
when a kiosk confirms; a periodic re-check covers a lost signal.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.biometrics.steps import BiometricActivities
    from core.biometrics.types import (
        ErasureRequest,
        Outstanding,
        TemplateRef,
    )

from workflows.policies import RETRY

STEP_TIMEOUT = timedelta(seconds=30)
RECHECK = timedelta(minutes=1)


class _AwaitsKiosks:
    def __init__(self) -> None:
        self._nudged = False

    @workflow.signal
    def kiosk_confirmed(self) -> None:
        self._nudged = True

    async def _until_confirmed(self, query: Outstanding) -> None:
        while True:
            pending = await workflow.execute_activity_method(
                BiometricActivities.outstanding,
                query,
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=RETRY,
            )
            if not pending:
                return
            self._nudged = False
            with contextlib.suppress(TimeoutError):  # no signal in a while: look again anyway
                await workflow.wait_condition(lambda: self._nudged, timeout=RECHECK)


@workflow.defn(name="DistributeTemplate")
class DistributeTemplateWorkflow(_AwaitsKiosks):
    """Load a newly enrolled template into every kiosk sensor of the student's school."""

    @workflow.run
    async def run(self, ref: TemplateRef) -> None:
        await workflow.execute_activity_method(
            BiometricActivities.queue_loads,
            ref,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=RETRY,
        )
        await self._until_confirmed(Outstanding(ref.tenant_id, ref.student_id, "load"))


@workflow.defn(name="EraseBiometrics")
class EraseBiometricsWorkflow(_AwaitsKiosks):
    """Destroy a student's biometric data everywhere: key and ciphertexts at once, then
    every kiosk sensor's copy, then the audit record of where and when."""

    @workflow.run
    async def run(self, request: ErasureRequest) -> None:
        await workflow.execute_activity_method(
            BiometricActivities.erase_at_rest,
            request,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=RETRY,
        )
        await self._until_confirmed(Outstanding(request.tenant_id, request.student_id, "delete"))
        await workflow.execute_activity_method(
            BiometricActivities.record_erased,
            request,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=RETRY,
        )
