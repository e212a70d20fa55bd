"""Start a payment or top-up workflow and wait for its receipt: the kiosk (or the bank) gets
its answer in the same request.

The workflow id comes from the caller's own transaction id, so a retried request finds the
first one's workflow, running or finished, and gets the same receipt: the money moves once.
Eager start hands the first workflow task straight to the API's in-process worker.

Temporal and PostgreSQL are restored apart: after a point-in-time restore of the database,
Temporal still holds finished runs whose writes the restore undid. So when a retry finds
the run finished (and only then: a first start costs nothing more), the database is asked
whether it holds the movement; if not, the movement runs again with the decision its
receipt gave (`Redo`), and is posted once in the restored database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from fastapi import HTTPException, status
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle

from activities.wallet.statements import Statements
from core.temporal.start import Labels, Started, start_by_key
from core.wallet.types import DECLINED, Decline, PaymentRequest, Receipt, Redo, TopUpRequest
from workflows.wallet import KioskPaymentWorkflow, TopUpWorkflow

# a kiosk gives up on an answer after this; it then asks again with the same transaction id
WAIT_S = 10.0
# the memo a movement's workflow carries: what the id was first used for, so a reuse of the
# id for another movement is recognised without waiting for the first one's receipt
_MOVEMENT_MEMO = "movement"


class MovementConflict(Exception):
    """The id was already used for another movement (another student or amount)."""


class InFlight:
    """A bound on payments being decided at once in this process. Beyond it a kiosk gets
    503 at once (and asks again with the same id) instead of queueing: under overload a
    fast "busy" beats an answer that comes after the kiosk has given up."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0

    def __enter__(self) -> None:
        if self.count >= self.limit:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                detail=f"busy: {self.count} payments are being decided; try again shortly",
                headers={"Retry-After": "1"},
            )
        self.count += 1

    def __exit__(self, *_: object) -> None:
        self.count -= 1


def payment_workflow_id(tenant: str, kiosk_id: str, kiosk_tx_id: str) -> str:
    return f"payment-{tenant}-{kiosk_id}-{kiosk_tx_id}"


def topup_workflow_id(tenant: str, topup_id: str) -> str:
    return f"topup-{tenant}-{topup_id}"


async def _start(
    client: Client,
    run: Callable[[Any, Any], Awaitable[Receipt]],
    request: PaymentRequest | TopUpRequest,
    workflow_id: str,
    task_queue: str,
    labels: Labels,
    records: Statements,
) -> WorkflowHandle[Any, Receipt]:
    async def start(request: PaymentRequest | TopUpRequest, *, once: bool) -> Started:
        return await start_by_key(
            client,
            run,
            request,
            id=workflow_id,
            task_queue=task_queue,
            labels=labels,
            once=once,
            eager=True,
            memo={_MOVEMENT_MEMO: _movement(request)},
        )

    started = await start(request, once=True)
    if not started.finished:
        return started.handle
    redo = await _lost_by_a_restore(started.handle, request, records)
    if redo is None:
        return started.handle
    # a new run under the same id (a retry meanwhile joins it, and one after it finds its
    # row): posted once in this database, as it was decided
    return (await start(replace(request, redo=redo), once=False)).handle


async def _lost_by_a_restore(
    handle: WorkflowHandle[Any, Receipt],
    request: PaymentRequest | TopUpRequest,
    records: Statements,
) -> Redo | None:
    """The decision to carry out again, if the finished run's movement is missing from the
    database (a restore undid it); None if the database holds it, or the run is no movement
    to redo (it failed, or moved other money: the caller refuses a reused id)."""
    try:
        receipt = await handle.result()
    except WorkflowFailureError:
        return None
    if receipt.student_id != request.student_id or receipt.amount != request.amount:
        return None
    if await records.recorded(request):
        return None
    if receipt.status != DECLINED:
        return Redo(receipt.status)
    return Redo(receipt.status, Decline(receipt.reason_code or "", receipt.reason or ""))


async def _wait(handle: WorkflowHandle[Any, Receipt], reference: str) -> Receipt:
    try:
        return await asyncio.wait_for(handle.result(), WAIT_S)
    except TimeoutError as err:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=f"{reference} is still being decided; ask again with the same id",
            headers={"Retry-After": "1"},
        ) from err


def _movement(request: PaymentRequest | TopUpRequest) -> dict[str, str]:
    return {"student": request.student_id, "amount": request.amount}


async def _check_movement(
    handle: WorkflowHandle[Any, Receipt], request: PaymentRequest | TopUpRequest, id_: str
) -> None:
    """MovementConflict if the workflow under this id moves other money than `request`."""
    first = await (await handle.describe()).memo_value(_MOVEMENT_MEMO, default=None)
    if first is not None and first != _movement(request):
        raise MovementConflict(
            f"id {id_!r} was already used for another movement (student {first['student']}, "
            f"amount {first['amount']}); use a new id"
        )


def _same_movement(receipt: Receipt, request: PaymentRequest | TopUpRequest) -> None:
    """The same id with another student or amount is a client bug, not a retry."""
    if receipt.student_id != request.student_id or receipt.amount != request.amount:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=(
                f"id {receipt.reference!r} was already used for another payment "
                f"(student {receipt.student_id}, amount {receipt.amount}); use a new id"
            ),
        )


async def pay(
    client: Client,
    task_queue: str,
    request: PaymentRequest,
    school_id: str,
    records: Statements,
) -> Receipt:
    workflow_id = payment_workflow_id(request.tenant_id, request.kiosk_id, request.kiosk_tx_id)
    labels = Labels(request.tenant_id, "payment", school=school_id, message_id=request.msg_id)
    handle = await _start(
        client, KioskPaymentWorkflow.run, request, workflow_id, task_queue, labels, records
    )
    receipt = await _wait(handle, f"payment {request.kiosk_tx_id}")
    _same_movement(receipt, request)
    return receipt


async def top_up(
    client: Client,
    task_queue: str,
    request: TopUpRequest,
    records: Statements,
    *,
    wait: bool = True,
) -> Receipt | None:
    workflow_id = topup_workflow_id(request.tenant_id, request.topup_id)
    labels = Labels(request.tenant_id, "topup", message_id=request.msg_id)
    handle = await _start(
        client, TopUpWorkflow.run, request, workflow_id, task_queue, labels, records
    )
    if not wait:
        # nobody waits for the receipt (the bank's Kafka stream): a reused id is caught here
        await _check_movement(handle, request, request.topup_id)
        return None
    receipt = await _wait(handle, f"top-up {request.topup_id}")
    _same_movement(receipt, request)
    return receipt
