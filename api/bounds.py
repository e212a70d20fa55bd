"""Bounds on what enters over HTTP, shared by the routes' models.

No path or query parameter may hold a NUL character (`no_nul_characters`, for every route):
PostgreSQL text cannot, so such an id names nothing Saku stores.

Money is bounded twice: statically at the pydantic edge (never more than the ledger's
columns hold, at most four decimal places), and against the configured e-money cap
(`SAKU_BALANCE_CAP`) by `within_cap`, since a setting is known only to the running app.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import Request
from pydantic import BaseModel, Field

from api.errors import invalid
from core.settings import Settings

# Far beyond any cap, and well inside the ledger's numeric(20, 4)
MAX_MONEY = Decimal(10) ** 12

Money = Annotated[Decimal, Field(ge=0, le=MAX_MONEY, decimal_places=4, allow_inf_nan=False)]
PositiveMoney = Annotated[Decimal, Field(gt=0, le=MAX_MONEY, decimal_places=4, allow_inf_nan=False)]


def within_cap(settings: Settings, body: BaseModel, *fields: str) -> None:
    """422 (list form) for the first of `fields` above the e-money cap: no limit or
    threshold above it means anything, as no wallet ever holds more."""
    cap = settings.balance_cap_decimal
    for name in fields:
        value = getattr(body, name)
        if value is not None and value > cap:
            raise invalid(
                f"{name} must be at most the e-money cap of {cap:f} IDR (SAKU_BALANCE_CAP)",
                ("body", name),
                f"{value:f}",
            )


async def no_nul_characters(request: Request) -> None:
    """422 (list form) for a path or query parameter with a NUL character (`%00`), which
    would otherwise reach PostgreSQL and fail its query."""
    sources = (("path", request.path_params.items()), ("query", request.query_params.multi_items()))
    for where, params in sources:
        for name, value in params:
            if isinstance(value, str) and "\x00" in value:
                raise invalid("must not contain a NUL character (%00)", (where, name))
