"""Top-ups from the bank: one shape for the HTTP route and the Kafka topic.

A top-up is evaluated by the monitoring engine before the wallet is credited; its id is the
bank's reference, so the same top-up sent twice (either channel) credits once. It names the
wallet by the student's id or by the wallet's virtual account number (a bank transfer to
that number), resolved within the top-up's tenant (`wallet_of`).
"""

from __future__ import annotations

import time
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from temporalio.client import Client

from activities.monitoring import offsets
from activities.monitoring.offsets import StreamPosition
from activities.wallet.directory import Directory
from activities.wallet.statements import Statements
from api.intake.consumer import Handler, Record, Rejected, decode_json
from api.intake.transactions import KnownTenants
from api.starters import wallet as wallet_starts
from core.db import Pool
from core.wallet.portal import VA_PATTERN, valid_virtual_account
from core.wallet.types import TopUpRequest, money

ID = r"^[A-Za-z0-9_.:-]{1,64}$"


class TopUpIn(BaseModel):
    """A top-up event, as the bank sends it (camelCase; `tenantId` only on Kafka)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    topup_id: str = Field(alias="topupId", pattern=ID, description="The bank's reference")
    tenant_id: str | None = Field(default=None, alias="tenantId", max_length=64)
    student_id: str | None = Field(
        default=None,
        alias="studentId",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="The student whose wallet is credited (or give virtualAccount)",
    )
    virtual_account: str | None = Field(
        default=None,
        alias="virtualAccount",
        pattern=VA_PATTERN,
        description=(
            "The wallet's virtual account number, as a bank transfer names it (instead of, "
            "or as well as, studentId): 16 digits with a check digit"
        ),
    )
    amount: Decimal = Field(gt=0, le=100_000_000, decimal_places=4)
    currency: str = Field(default="IDR", pattern="^IDR$", description="Wallets hold rupiah")
    payer_account: str = Field(alias="payerAccount", min_length=1, max_length=64)
    payer_name: str = Field(alias="payerName", min_length=1, max_length=140)
    created_at: datetime | None = Field(default=None, alias="createdAt")

    @field_validator("virtual_account")
    @classmethod
    def _check_digit(cls, value: str | None) -> str | None:
        if value is not None and not valid_virtual_account(value):
            raise ValueError("not a Saku virtual account number (its check digit or prefix)")
        return value

    @model_validator(mode="after")
    def _names_a_wallet(self) -> TopUpIn:
        if self.student_id is None and self.virtual_account is None:
            raise ValueError("name the wallet: studentId or virtualAccount")
        return self

    def request(self, tenant: str, channel: str, student_id: str | None = None) -> TopUpRequest:
        """The top-up for the workflow, crediting `student_id` (what `wallet_of` found;
        by default the studentId given)."""
        student = student_id or self.student_id
        if student is None:
            raise ValueError("the wallet of virtualAccount was not looked up")
        created = self.created_at
        if created is not None and created.tzinfo is None:
            raise ValueError("createdAt needs a timezone (e.g. 2026-11-23T06:00:00+07:00)")
        return TopUpRequest(
            tenant_id=tenant,
            topup_id=self.topup_id,
            student_id=student,
            amount=money(self.amount),
            payer_account=self.payer_account,
            payer_name=self.payer_name,
            channel=channel,
            created_at_ms=int((created.timestamp() if created else time.time()) * 1000),
        )


class NoWallet(LookupError):
    """The top-up names no wallet of its tenant; the message says what was not found."""


class WalletMismatch(ValueError):
    """studentId and virtualAccount name two different wallets."""


async def wallet_of(directory: Directory, tenant: str, body: TopUpIn) -> str:
    """The student whose wallet the top-up credits, in `tenant`: by studentId, or by the
    virtual account number (which must then be that student's, when both are given)."""
    if body.virtual_account is not None:
        student = await directory.student_of_virtual_account(tenant, body.virtual_account)
        if student is None:
            raise NoWallet(
                f"tenant {tenant!r} has no wallet with virtual account {body.virtual_account!r}"
            )
        if body.student_id is not None and body.student_id != student:
            raise WalletMismatch(
                f"virtualAccount {body.virtual_account!r} is not the wallet of studentId "
                f"{body.student_id!r}"
            )
        return student
    assert body.student_id is not None  # the model names one or the other
    if not await directory.has_student(tenant, body.student_id):
        raise NoWallet(f"tenant {tenant!r} has no student {body.student_id!r}")
    return body.student_id


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
                student = await wallet_of(directory, tenant, body)
                request = body.request(tenant, "kafka", student)
            except ValidationError as err:
                rejected.append((record, _reason(err)))
                continue
            except (Rejected, NoWallet, ValueError) as err:
                rejected.append((record, str(err)))
                continue
            try:
                await wallet_starts.top_up(client, task_queue, request, statements, wait=False)
            except wallet_starts.MovementConflict as err:
                rejected.append((record, str(err)))
        await offsets.record_alone(pool, position)
        return rejected

    return handle
