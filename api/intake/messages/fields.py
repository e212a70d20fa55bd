"""Value types of the intake models: the per-field checks Saku adds to Tazama's schemas."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, Field, PlainValidator, Strict, StringConstraints

from core.currencies import is_currency


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _currency(value: str) -> str:
    if len(value) != 3 or not value.isascii() or not value.isalpha() or not value.isupper():
        raise ValueError(f"currency must be 3 uppercase letters (ISO 4217), got {value[:8]!r}")
    if not is_currency(value):
        # the reporting quality checks accept the same list: what gets in passes them
        raise ValueError(f"currency {value!r} is not an ISO 4217 currency code")
    return value


def _status(value: str) -> str:
    if len(value) != 4 or not value.isascii() or not value.isalpha() or not value.isupper():
        raise ValueError(
            f"status must be a 4-letter ISO 20022 code such as ACCC, got {value[:8]!r}"
        )
    return value


def _iso_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO 8601 date-time: {value[:40]!r}") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"date-time needs a timezone (Z or ±hh:mm): {value[:40]!r}")
    return parsed


def _iso_date(value: object) -> date:
    # A date, or a date-time (JavaScript serialises Date objects, which Tazama's own samples
    # use for BirthDt, as full date-times); only the calendar date is kept.
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date string")
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value).date()
    except ValueError:
        raise ValueError(f"not an ISO 8601 date: {value[:40]!r}") from None


def _number(name: str, *, allow_blank: bool) -> Callable[[object], float | None]:
    def validate(value: object) -> float | None:
        if isinstance(value, bool):
            raise ValueError(f"{name} must be a number or a numeric string")
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str):
            text = value.strip()
            if not text:
                if allow_blank:
                    return None
                raise ValueError(f"{name} must not be blank")
            try:
                number = float(text.replace(",", ".", 1) if text.count(",") == 1 else text)
            except ValueError:
                raise ValueError(f"{name} must be numeric, got {value[:20]!r}") from None
        else:
            raise ValueError(f"{name} must be a number or a numeric string")
        if not math.isfinite(number):
            raise ValueError(f"{name} must be finite")
        return number

    return validate


def _in_range(name: str, limit: float) -> Callable[[float | None], float | None]:
    def validate(value: float | None) -> float | None:
        if value is not None and not -limit <= value <= limit:
            raise ValueError(f"{name} must be between -{limit:g} and {limit:g}")
        return value

    return validate


def _positive(value: float | None) -> float | None:
    if value is not None and value <= 0:
        raise ValueError("exchange rate must be greater than 0")
    return value


# ISO 20022 text types, bounded at the standard's length (a message's fields never hold more)
Max4Text = Annotated[str, Strict(), StringConstraints(max_length=4)]
Max10Text = Annotated[str, Strict(), StringConstraints(max_length=10)]
Max35Text = Annotated[str, Strict(), StringConstraints(max_length=35)]
Max70Text = Annotated[str, Strict(), StringConstraints(max_length=70)]
Max140Text = Annotated[str, Strict(), StringConstraints(max_length=140)]
CountryCode = Annotated[str, Strict(), StringConstraints(max_length=2)]
# not ISO: Saku's (and Tazama's) tenant, as long as Saku's ids
TenantText = Annotated[str, Strict(), StringConstraints(max_length=64)]
# identifiers (MsgId, EndToEndId, ...: Max35Text) must also be non-blank
Identifier = Annotated[
    str, Strict(), StringConstraints(min_length=1, max_length=35), AfterValidator(_not_blank)
]
# an account's `Othr.Id` (GenericAccountIdentification1: Max34Text)
AccountIdentifier = Annotated[
    str, Strict(), StringConstraints(min_length=1, max_length=34), AfterValidator(_not_blank)
]
Currency = Annotated[str, Strict(), AfterValidator(_currency)]
Status = Annotated[str, Strict(), AfterValidator(_status)]
# Below 10^15: what the ledger's numeric(20, 4) columns hold (and far beyond any real payment)
MAX_AMOUNT = 1e15
PositiveAmount = Annotated[float, Strict(), Field(gt=0, lt=MAX_AMOUNT, allow_inf_nan=False)]
NonNegativeAmount = Annotated[float, Strict(), Field(ge=0, lt=MAX_AMOUNT, allow_inf_nan=False)]
Count = Annotated[int, Strict(), Field(ge=1)]
IsoDateTime = Annotated[datetime, PlainValidator(_iso_datetime)]
IsoDate = Annotated[date, PlainValidator(_iso_date)]
Latitude = Annotated[
    float | None,
    PlainValidator(_number("latitude", allow_blank=True)),
    AfterValidator(_in_range("latitude", 90)),
]
Longitude = Annotated[
    float | None,
    PlainValidator(_number("longitude", allow_blank=True)),
    AfterValidator(_in_range("longitude", 180)),
]
ExchangeRate = Annotated[
    float | None,
    PlainValidator(_number("exchange rate", allow_blank=False)),
    AfterValidator(_positive),
]
