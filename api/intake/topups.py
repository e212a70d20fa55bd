"""Top-ups from the bank: one shape for the HTTP route and the Kafka topic.

A top-up is evaluated by the monitoring engine before the wallet is credited; its id is the
bank's reference, so the same top-up sent twice (either channel) credits once.
"""

from __future__ import annotations

import time
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from temporalio.client import Client

from activities.monitoring import offsets
from activities.monitoring.offsets import StreamPosition
from activities.wallet.directory import Directory
from activities.wallet.statements import Statements
from api.intake.consumer import Handler, Record, Rejected, decode_json
from api.intake.transactions import KnownTenants
from api.starters import wallet as wallet_starts
from core.db import Pool
from core.wallet.types import TopUpRequest, money

ID = r"^[A-Za-z0-9_.:-]{1,64}$"


class TopUpIn(BaseModel):
    """A top-up event, as the bank sends it (camelCase; `tenantId` only on Kafka)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    topup_id: str = Field(alias="topupId", pattern=ID, description="The bank's reference")
    tenant_id: str | None = Field(default=None, alias="tenantId", max_length=64)
    student_id: str = Field(alias="studentId", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    amount: Decimal = Field(gt=0, le=100_000_000, decimal_places=4)
    currency: str = Field(default="IDR", pattern="^IDR$", description="Wallets hold rupiah")
    payer_account: str = Field(alias="payerAccount", min_length=1, max_length=64)
    payer_name: str = Field(alias="payerName", min_length=1, max_length=140)
    created_at: datetime | None = Field(default=None, alias="createdAt")

    def request(self, tenant: str, channel: str) -> TopUpRequest:
        created = self.created_at
        if created is not None and created.tzinfo is None:
            raise ValueError("createdAt needs a timezone (e.g. 2026-11-23T06:00:00+07:00)")
        return TopUpRequest(
            tenant_id=tenant,
            topup_id=self.topup_id,
            student_id=self.student_id,
            amount=money(self.amount),
            payer_account=self.payer_account,
            payer_name=self.payer_name,
            channel=channel,
            created_at_ms=int((created.timestamp() if created else time.time()) * 1000),
        )


def _reason(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"invalid top-up: {where}: {first['msg']}"


def topups_handler(client: Client, task_queue: str, pool: Pool, tenants: KnownTenants) -> Handler:
    """Start a top-up workflow per valid event (not waiting for it: the workflow is durable
    once started); dead-letter the rest with the reason. The offsets are recorded in
    PostgreSQL after the starts (a started top-up is durable; one started twice credits
    once, by its id; one a restore undid is credited again, see api/starters/wallet.py)."""
    directory = Directory(pool)
    statements = Statements(pool)

    async def handle(records: list[Record], position: StreamPosition) -> list[tuple[Record, str]]:
        rejected: list[tuple[Record, str]] = []
        for record in records:
            try:
                body = TopUpIn.model_validate(decode_json(record))
                tenant = body.tenant_id or ""
                if not await tenants.exists(tenant):
                    raise Rejected(f"unknown tenant {tenant!r} (tenantId is required)")
                if not await directory.has_student(tenant, body.student_id):
                    raise Rejected(f"tenant {tenant!r} has no student {body.student_id!r}")
                request = body.request(tenant, "kafka")
            except ValidationError as err:
                rejected.append((record, _reason(err)))
                continue
            except (Rejected, ValueError) as err:
                rejected.append((record, str(err)))
                continue
            try:
                await wallet_starts.top_up(client, task_queue, request, statements, wait=False)
            except wallet_starts.MovementConflict as err:
                rejected.append((record, str(err)))
        await offsets.record_alone(pool, position)
        return rejected

    return handle
