"""Kiosk payments and top-ups: screen (authorise, then the monitoring engine: rules,
typologies, adjudication) -> decide -> settle (ledger, record, notify) -> receipt. A
movement a database restore undid runs again with the decision it was given (`Redo`).

One workflow per purchase (id from the kiosk's transaction id) or top-up (the bank's
reference), each step a local activity so the kiosk gets its answer in one round trip of
workflow tasks. A payment the monitoring engine interdicts is declined; an alert without
interdiction lets it through for review.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from activities.wallet.payments import WalletActivities
    from activities.wallet.payouts import PayoutActivities
    from core.monitoring.results import ALERT
    from core.temporal import search_attributes as sa
    from core.wallet.authorisation import MONITORING_HOLD, TOPUP_HOLD
    from core.wallet.types import (
        Decline,
        PaymentRequest,
        PayoutRef,
        Receipt,
        Screening,
        Settlement,
        TopUpRequest,
    )

from workflows.cases import open_cases
from workflows.policies import RETRY, search_by_status

STEP_TIMEOUT = timedelta(seconds=10)


async def _screen_and_settle(
    screen: Any,
    settle: Any,
    request: PaymentRequest | TopUpRequest,
    hold: Decline | None,
    *,
    searchable: bool = False,
) -> Receipt:
    """`screen` then `settle`: two of WalletActivities' methods, for a payment or a top-up.
    `searchable`: the workflow's outcome becomes its search attributes (one movement per
    workflow; an offline journal's workflow holds many)."""
    screening: Screening = await workflow.execute_local_activity_method(
        screen, request, start_to_close_timeout=STEP_TIMEOUT, retry_policy=RETRY
    )
    decline = screening.decline or (hold if screening.interdicted else None)
    if request.redo is not None:  # decided before a restore undid its record: that stands
        decline = request.redo.decline
    settlement = Settlement(decline, screening.evaluation_id, screening.monitoring_status)
    receipt: Receipt = await workflow.execute_local_activity_method(
        settle, args=[request, settlement], start_to_close_timeout=STEP_TIMEOUT, retry_policy=RETRY
    )
    # Histories recorded before the attributes were set replay without them
    if searchable and workflow.patched("wallet-search-attributes"):
        _search_by_outcome(receipt, screening)
    if screening.monitoring_status == ALERT:
        await open_cases(request.tenant_id, [request.msg_id])
    return receipt


def _search_by_outcome(receipt: Receipt, screening: Screening) -> None:
    """SakuStatus (approved, declined, credited) and, when the monitoring engine scored the
    movement, SakuScore: what operators filter by ("the declined payments")."""
    pairs: list[SearchAttributeUpdate[Any]] = [sa.STATUS.value_set(receipt.status)]
    if screening.score is not None:
        pairs.append(sa.SCORE.value_set(screening.score))
    workflow.upsert_search_attributes(pairs)


async def _pay(
    request: PaymentRequest, hold: Decline | None, *, searchable: bool = False
) -> Receipt:
    return await _screen_and_settle(
        WalletActivities.screen_payment,
        WalletActivities.settle_payment,
        request,
        hold,
        searchable=searchable,
    )


# Unsandboxed: these workflows run only the code above (no clocks, I/O or randomness), and
# the sandbox's per-workflow module re-import cost more than the rest of a payment's
# workflow work at the kiosk's latency budget.
@workflow.defn(name="KioskPayment", sandboxed=False)
class KioskPaymentWorkflow:
    @workflow.run
    async def run(self, request: PaymentRequest) -> Receipt:
        # an offline sale has happened already: it is evaluated (alerts), never held
        hold = None if request.offline else MONITORING_HOLD
        return await _pay(request, hold, searchable=True)


@workflow.defn(name="TopUp", sandboxed=False)
class TopUpWorkflow:
    @workflow.run
    async def run(self, request: TopUpRequest) -> Receipt:
        return await _screen_and_settle(
            WalletActivities.screen_topup,
            WalletActivities.settle_topup,
            request,
            TOPUP_HOLD,
            searchable=True,
        )


@workflow.defn(name="OfflineSync", sandboxed=False)
class OfflineSyncWorkflow:
    """A kiosk's offline journal, replayed in the order it was sold: each sale through the
    payment steps (idempotent by its transaction id, so a sale Saku already has is
    ignored), on credit where the wallet falls short."""

    @workflow.run
    async def run(self, sales: list[PaymentRequest]) -> list[Receipt]:
        receipts = [await _pay(sale, None) for sale in sorted(sales, key=lambda s: s.sold_at_ms)]
        search_by_status("synced")
        return receipts


# money owed to a guardian: the request is retried until the bank's topic has it, however
# long Kafka is away (never given up on, unlike a storage step's RETRY)
UNTIL_SENT = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)


@workflow.defn(name="Payout", sandboxed=False)
class PayoutWorkflow:
    """A leaver's balance, already posted into payouts pending: the request reaches the
    bank's payouts topic (retried until it does), then the payout is marked sent."""

    @workflow.run
    async def run(self, ref: PayoutRef) -> str:
        status: str = await workflow.execute_activity_method(
            PayoutActivities.send,
            ref,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=UNTIL_SENT,
        )
        return status
