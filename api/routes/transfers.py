"""Money a guardian moves between two of their children's wallets, the API's twin of the
portal's transfer form: a balanced `transfer` posting in the ledger, made once per
`Idempotency-Key` (the same key with the same body answers the same transfer again; with
another body, 409), and the latest transfers between the guardian's children.

Guardians only, for their own children (any other child is not found, as on the portal's
pages); `Portal.move` locks both wallets, checks the money and the sibling's e-money cap,
posts and audits."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from activities.wallet.directory import NotFound
from activities.wallet.portal import PortalRefused, Transfer
from api.bounds import PositiveMoney, within_cap
from api.deps import GuardianDep, PortalDep, SettingsDep, own_child

router = APIRouter(prefix="/v1/guardian/transfers", tags=["guardian portal"])
STUDENT_ID = r"^[A-Za-z0-9_-]{1,64}$"
# as the portal's form makes them: a UUID's hex, or any such token of 8 to 64 characters
IDEMPOTENCY_KEY = r"^[A-Za-z0-9_-]{8,64}$"
REPLAYED = "Idempotent-Replayed"


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_student_id: str = Field(pattern=STUDENT_ID, description="The child who gives")
    to_student_id: str = Field(pattern=STUDENT_ID, description="The sibling who receives")
    amount: PositiveMoney = Field(description="IDR; at most the e-money cap")

    @model_validator(mode="after")
    def _two_children(self) -> TransferIn:
        if self.from_student_id == self.to_student_id:
            raise ValueError("choose two different children")
        return self


class TransferOut(BaseModel):
    id: str = Field(description="The Idempotency-Key it was made with")
    from_student_id: str
    to_student_id: str
    amount: Decimal
    at: datetime

    @classmethod
    def of(cls, transfer: Transfer) -> TransferOut:
        return cls(
            id=transfer.id,
            from_student_id=transfer.from_student,
            to_student_id=transfer.to_student,
            amount=transfer.amount,
            at=transfer.at,
        )


@router.post(
    "",
    response_model=TransferOut,
    status_code=status.HTTP_201_CREATED,
    summary="Move money from one of your children's wallets to a sibling's, once per key",
    responses={
        201: {
            "description": (
                "Moved; or, for a key used before with the same body, the transfer it made "
                f"(then with the header `{REPLAYED}: true`)"
            )
        },
        404: {"description": "not one of your children"},
        409: {
            "description": (
                "the key was used for another transfer; not enough money in the wallet; the "
                "sibling's wallet would pass its e-money cap; no guardian record signs in as you"
            )
        },
        422: {"description": "an amount not positive or above the cap, one child twice"},
    },
)
async def move(
    body: TransferIn,
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            pattern=IDEMPOTENCY_KEY,
            description=(
                "Your id for this transfer (e.g. a UUID), unique in your school's tenant: sent "
                "again with the same body it moves nothing more and answers the same transfer"
            ),
        ),
    ],
    principal: GuardianDep,
    portal: PortalDep,
    settings: SettingsDep,
    response: Response,
) -> TransferOut:
    source = own_child(principal, body.from_student_id)
    target = own_child(principal, body.to_student_id)
    within_cap(settings, body, "amount")
    guardian = await portal.guardian_of(principal.tenant, principal.subject)
    if guardian is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail="no guardian record signs in as you: ask the school to link your sign-in",
        )
    try:
        moved = await portal.move(
            principal.tenant,
            guardian[0],
            idempotency_key,
            source,
            target,
            body.amount,
            principal.subject,
        )
    except NotFound as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(err)) from err
    except PortalRefused as err:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(err)) from err
    done = await portal.transfer(principal.tenant, idempotency_key)
    assert done is not None  # moved now, or before under this key
    if not moved:
        response.headers[REPLAYED] = "true"
    return TransferOut.of(done)


@router.get(
    "",
    response_model=list[TransferOut],
    summary="The latest transfers between your children, newest first",
)
async def transfers(
    principal: GuardianDep,
    portal: PortalDep,
    limit: Annotated[int, Query(ge=1, le=100, description="How many (1 to 100)")] = 20,
) -> list[TransferOut]:
    found = await portal.transfers(principal.tenant, principal.students, limit)
    return [TransferOut.of(t) for t in found]
