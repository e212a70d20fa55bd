"""An alert handed off beyond Saku by its case: to the tenant's webhook and syslog collector
at once, each a regular activity retried durably (exponential backoff from 1 s to 5 min) for
at most the tenant's retry window (SAKU_ALERT_HANDOFF_RETRY_S), then recorded as failed.

The case runs this beside its wait for a decision, so a failing receiver holds up neither
the decision nor its escalation (and never the stream, which only started the case); the
case finishes once both have ended."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.alert_handoff.deliver import HandOffActivities
    from core.alert_handoff import REFUSED, SYSLOG, WEBHOOK, AlertDelivery, HandOff
    from core.cases import CaseRequest

from workflows.policies import RETRY

DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=[REFUSED],
)
RECORD_TIMEOUT = timedelta(seconds=30)


async def hand_off(case: CaseRequest, plan: HandOff) -> None:
    """Deliver the case's alert to every receiver the plan names; never raises for a
    receiver that fails."""
    await asyncio.gather(*(_deliver(case, plan, channel) for channel in plan.channels))


async def _deliver(case: CaseRequest, plan: HandOff, channel: str) -> None:
    delivery = AlertDelivery(case.tenant_id, case.msg_id, channel)
    step = {WEBHOOK: HandOffActivities.webhook, SYSLOG: HandOffActivities.syslog}[channel]
    try:
        await workflow.execute_activity_method(
            step,
            delivery,
            # a try's own timeout bounds it inside the activity; the margin covers reading
            # the receiver and the alert and recording the outcome
            start_to_close_timeout=timedelta(seconds=plan.attempt_timeout_s + 30),
            schedule_to_close_timeout=timedelta(seconds=plan.retry_for_s),
            retry_policy=DELIVERY_RETRY,
        )
    except ActivityError as err:
        # refused, or nothing to send: said by the activity; otherwise the tries ran out
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.non_retryable:
            reason = cause.message
        else:
            reason = f"not delivered within {plan.retry_for_s} s"
        await workflow.execute_local_activity_method(
            HandOffActivities.failed,
            AlertDelivery(case.tenant_id, case.msg_id, channel, error=reason),
            start_to_close_timeout=RECORD_TIMEOUT,
            retry_policy=RETRY,
        )
