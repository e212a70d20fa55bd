"""Kiosk payments and top-ups: screen (authorise, then the monitoring engine: rules,
typologies, adjudication) -> decide -> settle (ledger, record, notify) -> receipt.

One workflow per purchase (id from the kiosk's transaction id) or top-up (the bank's
reference), each step a local activity so the kiosk gets its answer in one round trip of
workflow tasks. A payment the monitoring engine interdicts is declined; an alert without
interdiction lets it through for review.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.wallet.payments import WalletActivities
    from core.monitoring.results import ALERT
    from core.wallet.authorisation import MONITORING_HOLD, TOPUP_HOLD
    from core.wallet.types import (
        Decline,
        PaymentRequest,
        Receipt,
        Screening,
        Settlement,
        TopUpRequest,
    )

from workflows.cases import open_cases
from workflows.policies import RETRY

STEP_TIMEOUT = timedelta(seconds=10)


async def _pay(request: PaymentRequest, hold: Decline | None) -> Receipt:
    screening = await workflow.execute_local_activity_method(
        WalletActivities.screen_payment,
        request,
        start_to_close_timeout=STEP_TIMEOUT,
        retry_policy=RETRY,
    )
    receipt = await workflow.execute_local_activity_method(
        WalletActivities.settle_payment,
        args=[request, _settlement(screening, hold)],
        start_to_close_timeout=STEP_TIMEOUT,
        retry_policy=RETRY,
    )
    return await _with_cases(request, screening, receipt)


async def _top_up(request: TopUpRequest) -> Receipt:
    screening = await workflow.execute_local_activity_method(
        WalletActivities.screen_topup,
        request,
        start_to_close_timeout=STEP_TIMEOUT,
        retry_policy=RETRY,
    )
    receipt = await workflow.execute_local_activity_method(
        WalletActivities.settle_topup,
        args=[request, _settlement(screening, TOPUP_HOLD)],
        start_to_close_timeout=STEP_TIMEOUT,
        retry_policy=RETRY,
    )
    return await _with_cases(request, screening, receipt)


def _settlement(screening: Screening, hold: Decline | None) -> Settlement:
    """Interdicted by monitoring: declined with `hold`, unless already declined."""
    decline = screening.decline or (hold if screening.interdicted else None)
    return Settlement(decline, screening.evaluation_id, screening.monitoring_status)


async def _with_cases(
    request: PaymentRequest | TopUpRequest, screening: Screening, receipt: Receipt
) -> Receipt:
    if screening.monitoring_status == ALERT:
        await open_cases(request.tenant_id, [request.msg_id])
    return receipt


# Unsandboxed: these workflows run only the code above (no clocks, I/O or randomness), and
# the sandbox's per-workflow module re-import cost more than the rest of a payment's
# workflow work at the kiosk's latency budget.
@workflow.defn(name="KioskPayment", sandboxed=False)
class KioskPaymentWorkflow:
    @workflow.run
    async def run(self, request: PaymentRequest) -> Receipt:
        # an offline sale has happened already: it is evaluated (alerts), never held
        hold = None if request.offline else MONITORING_HOLD
        return await _pay(request, hold)


@workflow.defn(name="TopUp", sandboxed=False)
class TopUpWorkflow:
    @workflow.run
    async def run(self, request: TopUpRequest) -> Receipt:
        return await _top_up(request)


@workflow.defn(name="OfflineSync", sandboxed=False)
class OfflineSyncWorkflow:
    """A kiosk's offline journal, replayed in the order it was sold: each sale through the
    payment steps (idempotent by its transaction id, so a sale Saku already has is
    ignored), on credit where the wallet falls short."""

    @workflow.run
    async def run(self, sales: list[PaymentRequest]) -> list[Receipt]:
        return [await _pay(sale, None) for sale in sorted(sales, key=lambda s: s.sold_at_ms)]
