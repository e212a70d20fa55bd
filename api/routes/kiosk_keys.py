"""Kiosk signing keys for a school's admins and staff, and the kiosk's own key check.

`router`: register, rotate, revoke and list a kiosk's keys (admin, or school_staff of that
school; the tenant is the token's). `kiosk_router`: routes a kiosk calls, authenticated by
its request signature only (api/kiosk_auth.py), never by a bearer token.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field

from activities.wallet.kiosk_keys import (
    KeyStatus,
    KioskKey,
    KioskKeyConflict,
    KioskKeyError,
    KioskKeyNotFound,
    KioskKeys,
)
from api.deps import KioskKeysDep, RequireRoles, SettingsDep
from api.kiosk_auth import KioskDep
from core.kiosk_signing import decode_public_key, encode_public_key
from core.security import Principal, Role

router = APIRouter(prefix="/v1/schools/{school_id}/kiosks/{kiosk_id}/keys", tags=["kiosk keys"])
kiosk_router = APIRouter(prefix="/v1/kiosk", tags=["kiosk"])
school_managers = Depends(RequireRoles(Role.ADMIN, Role.SCHOOL_STAFF))
Manager = Annotated[Principal, school_managers]

_PUBLIC_KEY = Field(
    min_length=1,
    max_length=200,
    description="The kiosk's raw 32-byte Ed25519 public key, base64 (standard or url-safe)",
    examples=["11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="],
)
_ERRORS: dict[int | str, dict[str, str]] = {
    400: {"description": "invalid input; the reason says why"},
    404: {"description": "no such kiosk in this school, or no such key"},
    409: {"description": "the kiosk's keys do not allow this now; the reason says what to do"},
}


class KeyRegister(BaseModel):
    public_key: str = _PUBLIC_KEY


class KeyRotate(BaseModel):
    public_key: str = _PUBLIC_KEY
    grace_s: int | None = Field(
        default=None,
        ge=0,
        le=7 * 24 * 3600,
        description="How long the previous key still verifies, in seconds "
        "(default: the server's SAKU_KIOSK_KEY_GRACE_S)",
    )
    reason: str = Field(default="key rotation", min_length=1, max_length=500)


class KeyRevoke(BaseModel):
    reason: str = Field(
        min_length=1, max_length=500, description="Why, for the audit log (e.g. 'kiosk stolen')"
    )


class KeyOut(BaseModel):
    key_id: str = Field(description="Sent by the kiosk in the X-Saku-Key-Id header")
    public_key: str = Field(description="Base64 of the raw Ed25519 public key")
    status: KeyStatus = Field(
        description="current: signs now; grace: replaced, still verifies until valid_until; "
        "expired or revoked: refused"
    )
    created_at: datetime
    valid_until: datetime | None = Field(description="Null while the key is current")
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: KioskKey) -> KeyOut:
        return cls(
            key_id=key.key_id,
            public_key=encode_public_key(key.public_key),
            status=key.status,
            created_at=key.created_at,
            valid_until=key.valid_until,
            revoked_at=key.revoked_at,
        )


class KioskOut(BaseModel):
    tenant: str
    kiosk_id: str
    school_id: str
    merchant_id: str
    key_id: str = Field(description="The key that signed this request")


def _http_error(err: KioskKeyError) -> HTTPException:
    if isinstance(err, KioskKeyNotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, detail=str(err))
    if isinstance(err, KioskKeyConflict):
        return HTTPException(status.HTTP_409_CONFLICT, detail=str(err))
    return HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(err))


def _public_key(text: str) -> bytes:
    try:
        return decode_public_key(text)
    except ValueError as err:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(err)) from err


async def _school_kiosk(keys: KioskKeys, tenant: str, school_id: str, kiosk_id: str) -> None:
    """404 unless the kiosk belongs to the school in the path: RequireRoles scoped the
    caller to that school, this scopes the kiosk to it."""
    info = await keys.kiosk(tenant, kiosk_id)
    if info is None or info.school_id != school_id:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"no kiosk {kiosk_id!r} in school {school_id!r}"
        )


async def _key_out(keys: KioskKeys, tenant: str, kiosk_id: str, key_id: str) -> KeyOut:
    key = await keys.get(tenant, kiosk_id, key_id)
    if key is None:  # only if it vanished after we wrote it: keys are never deleted
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no key {key_id!r}")
    return KeyOut.of(key)


@router.get("", summary="A kiosk's keys, newest first", responses={404: _ERRORS[404]})
async def list_keys(
    school_id: str, kiosk_id: str, keys: KioskKeysDep, principal: Manager
) -> list[KeyOut]:
    await _school_kiosk(keys, principal.tenant, school_id, kiosk_id)
    return [KeyOut.of(key) for key in await keys.list(principal.tenant, kiosk_id)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register a kiosk's first key (or a new one after its current key was revoked)",
    responses=_ERRORS,
)
async def register_key(
    school_id: str, kiosk_id: str, body: KeyRegister, keys: KioskKeysDep, principal: Manager
) -> KeyOut:
    public_key = _public_key(body.public_key)
    await _school_kiosk(keys, principal.tenant, school_id, kiosk_id)
    try:
        key_id = await keys.register(principal.tenant, kiosk_id, public_key, principal)
    except KioskKeyError as err:
        raise _http_error(err) from err
    return await _key_out(keys, principal.tenant, kiosk_id, key_id)


@router.post(
    "/rotate",
    status_code=status.HTTP_201_CREATED,
    summary="Replace the current key; the previous one verifies for a grace period",
    responses=_ERRORS,
)
async def rotate_key(
    school_id: str,
    kiosk_id: str,
    body: KeyRotate,
    keys: KioskKeysDep,
    settings: SettingsDep,
    principal: Manager,
) -> KeyOut:
    public_key = _public_key(body.public_key)
    await _school_kiosk(keys, principal.tenant, school_id, kiosk_id)
    grace = settings.kiosk_key_grace_s if body.grace_s is None else body.grace_s
    try:
        key_id = await keys.rotate(
            principal.tenant, kiosk_id, public_key, principal, grace, reason=body.reason
        )
    except KioskKeyError as err:
        raise _http_error(err) from err
    return await _key_out(keys, principal.tenant, kiosk_id, key_id)


@router.post(
    "/{key_id}/revoke",
    summary="Refuse a key from now on (stolen or retired kiosk)",
    responses=_ERRORS,
)
async def revoke_key(
    school_id: str,
    kiosk_id: str,
    key_id: str,
    body: KeyRevoke,
    keys: KioskKeysDep,
    principal: Manager,
) -> KeyOut:
    await _school_kiosk(keys, principal.tenant, school_id, kiosk_id)
    try:
        await keys.revoke(principal.tenant, kiosk_id, key_id, principal, body.reason)
    except KioskKeyError as err:
        raise _http_error(err) from err
    return await _key_out(keys, principal.tenant, kiosk_id, key_id)


@kiosk_router.get(
    "/whoami",
    summary="The kiosk this signed request comes from (a kiosk checks its key with it)",
    responses={401: {"description": "not a valid kiosk signature; the reason says why"}},
)
async def whoami(kiosk: KioskDep) -> KioskOut:
    return KioskOut(**asdict(kiosk))
