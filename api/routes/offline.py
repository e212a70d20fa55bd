"""Kiosks offline: the caps they sell within, the replay of their signed journal, and after
a point-in-time restore of Saku's database, which synced sales it no longer holds."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field, ValidationError

from api.deps import (
    DirectoryDep,
    KioskKeysDep,
    ResourcesDep,
    RestoresDep,
    SchoolOfficeDep,
    SettingsDep,
    StatementsDep,
)
from api.kiosk_auth import KioskDep
from api.routes.kiosk_payments import TX_ID
from core.kiosk_signing import verify_journal_entry
from core.temporal.start import Labels, start_by_key
from core.wallet.types import PaymentRequest, money
from workflows.wallet import OfflineSyncWorkflow

router = APIRouter(prefix="/v1/kiosk", tags=["kiosk"])
MAX_SALES = 1000  # one upload; a kiosk with more sends several
# the most display names (40 characters at most each) one kiosk is sent and keeps: more
# than a large school's pupils; a school with more has only the first, by id, greeted by
# name offline
ROSTER_MAX = 10_000


class KioskCategory(BaseModel):
    id: str
    name: str


class KioskConfig(BaseModel):
    school_id: str
    offline_student_cap: str = Field(description="Offline sales a student may make a day")
    offline_kiosk_cap: str = Field(description="Offline sales this kiosk may hold unsynced")
    categories: list[KioskCategory] = Field(
        default_factory=list, description="The categories the kiosk's screen offers"
    )
    restore_epoch: str | None = Field(
        default=None,
        description=(
            "Changes when Saku's database is restored to an earlier point: the kiosk then asks"
            " which of its synced sales Saku lost (POST /v1/kiosk/offline-sales/missing)"
        ),
    )
    roster_version: str = Field(
        description=(
            "Changes when the names of the school's students change: the kiosk then fetches"
            " them again (GET /v1/kiosk/roster)"
        )
    )


class RosterEntry(BaseModel):
    id: str
    display_name: str = Field(description='The name the screen greets the student by, "Budi S."')


class KioskRoster(BaseModel):
    version: str = Field(description="As `roster_version` in the config")
    students: list[RosterEntry] = Field(
        description=f"The school's active students, by id; at most {ROSTER_MAX}"
    )


class OfflineSale(BaseModel):
    kiosk_tx_id: str = Field(pattern=TX_ID)
    student_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    amount: Decimal = Field(gt=0, le=10_000_000, decimal_places=4)
    category_id: str | None = Field(default=None, pattern=r"^[a-z0-9_-]{1,64}$")
    auth_method: Literal["fingerprint", "pin", "qr", "override"]
    match_score: int | None = Field(default=None, ge=0, le=65535)
    sold_at: datetime
    key_id: str = Field(max_length=64, description="The key that signed this journal entry")
    signature: str = Field(
        max_length=200, description="The kiosk's signature over the entry, made at sale"
    )


class OfflineSalesIn(BaseModel):
    # kept as sent: the signature covers the entry's JSON exactly as the kiosk wrote it
    sales: list[dict[str, Any]] = Field(
        min_length=1, max_length=MAX_SALES, description="Journal entries (see OfflineSale)"
    )


class SyncAccepted(BaseModel):
    workflow_id: str
    accepted: int


class SyncedSalesIn(BaseModel):
    kiosk_tx_ids: list[Annotated[str, Field(pattern=TX_ID)]] = Field(
        min_length=1, max_length=MAX_SALES, description="Sales this kiosk has synced"
    )


class MissingSales(BaseModel):
    missing: list[str] = Field(description="Those Saku does not hold: send them again")


@router.get(
    "/config",
    response_model=KioskConfig,
    summary="The caps to sell within offline, and the categories to offer",
)
async def config(
    kiosk: KioskDep,
    directory: DirectoryDep,
    restores: RestoresDep,
    office: SchoolOfficeDep,
    unsynced: Annotated[
        int | None,
        Query(ge=0, le=10_000_000, description="Sales the kiosk's journal holds unsynced"),
    ] = None,
    unsynced_amount: Annotated[
        Decimal | None,
        Query(ge=0, le=10**12, decimal_places=4, description="Their amount (IDR)"),
    ] = None,
) -> KioskConfig:
    if unsynced is not None and unsynced_amount is not None:  # for the school office
        await office.report_journal(kiosk.tenant, kiosk.kiosk_id, unsynced, unsynced_amount)
    caps = await directory.offline_caps(kiosk.tenant, kiosk.school_id)
    assert caps is not None  # the kiosk's school: the signature check found the kiosk in it
    return KioskConfig(
        school_id=kiosk.school_id,
        offline_student_cap=money(caps.per_student_per_day),
        offline_kiosk_cap=money(caps.per_kiosk_unsynced),
        categories=[
            KioskCategory(id=i, name=n) for i, n in await directory.categories(kiosk.tenant)
        ],
        restore_epoch=await restores.epoch(),
        roster_version=await directory.roster_version(kiosk.tenant, kiosk.school_id, ROSTER_MAX),
    )


@router.get(
    "/roster",
    response_model=KioskRoster,
    summary="The display names of the school's students, to greet them by when offline",
)
async def roster(kiosk: KioskDep, directory: DirectoryDep) -> KioskRoster:
    """Display names only: the kiosk shows them at each sale anyway (the receipt carries the
    name), and needs them when it sells offline and no receipt comes."""
    # the version first: names changed in between make the kiosk ask again, never miss
    version = await directory.roster_version(kiosk.tenant, kiosk.school_id, ROSTER_MAX)
    students = await directory.roster(kiosk.tenant, kiosk.school_id, ROSTER_MAX)
    return KioskRoster(
        version=version,
        students=[RosterEntry(id=i, display_name=n) for i, n in students],
    )


@router.post(
    "/offline-sales/missing",
    response_model=MissingSales,
    summary="Which of these synced sales Saku does not hold (a restore lost them)",
)
async def missing_sales(
    body: SyncedSalesIn, kiosk: KioskDep, statements: StatementsDep
) -> MissingSales:
    ids = list(dict.fromkeys(body.kiosk_tx_ids))
    missing = await statements.payments_missing(kiosk.tenant, kiosk.kiosk_id, ids)
    return MissingSales(missing=missing)


@router.post(
    "/offline-sales",
    response_model=SyncAccepted,
    status_code=202,
    summary="Replay sales made offline (each signed when made); posted once each",
    responses={422: {"description": "an entry's signature does not verify (nothing is taken)"}},
)
async def offline_sales(
    body: OfflineSalesIn,
    kiosk: KioskDep,
    keys: KioskKeysDep,
    resources: ResourcesDep,
    settings: SettingsDep,
    office: SchoolOfficeDep,
) -> SyncAccepted:
    public: dict[str, bytes | None] = {}
    sales = []
    for number, raw in enumerate(body.sales):
        try:
            sale = OfflineSale.model_validate(raw)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise HTTPException(422, detail=f"sale {number}: {where}: {first['msg']}") from err
        if sale.key_id not in public:
            public[sale.key_id] = await keys.journal_key(kiosk.tenant, kiosk.kiosk_id, sale.key_id)
        key = public[sale.key_id]
        entry = {k: v for k, v in raw.items() if k != "signature"}
        if key is None or not verify_journal_entry(key, entry, sale.signature):
            raise HTTPException(
                422, detail=f"sale {sale.kiosk_tx_id!r}: its journal signature does not verify"
            )
        if sale.sold_at.tzinfo is None:
            raise HTTPException(422, detail=f"sale {sale.kiosk_tx_id!r}: sold_at needs a timezone")
        sales.append(sale)
    requests = [
        PaymentRequest(
            tenant_id=kiosk.tenant,
            kiosk_id=kiosk.kiosk_id,
            kiosk_tx_id=sale.kiosk_tx_id,
            student_id=sale.student_id,
            amount=money(sale.amount),
            sold_at_ms=int(sale.sold_at.timestamp() * 1000),
            category_id=sale.category_id,
            auth_method=sale.auth_method,
            match_score=sale.match_score,
            offline=True,
        )
        for sale in sales
    ]
    digest = hashlib.sha256("\n".join(s.kiosk_tx_id for s in sales).encode()).hexdigest()
    workflow_id = f"offline-sync-{kiosk.tenant}-{kiosk.kiosk_id}-{digest[:16]}"
    client = await resources.temporal()
    # not `once`: the same journal sent again (after a restore lost its sales) runs again;
    # each sale is posted once, by its transaction id
    await start_by_key(
        client,
        OfflineSyncWorkflow.run,
        requests,
        id=workflow_id,
        task_queue=settings.task_queue,
        labels=Labels(kiosk.tenant, "offline-sync", school=kiosk.school_id),
        once=False,
    )
    await office.synced(kiosk.tenant, kiosk.kiosk_id)
    return SyncAccepted(workflow_id=workflow_id, accepted=len(requests))
