"""Kiosk authentication: every kiosk request carries an Ed25519 signature (core.kiosk_signing).

Checks run cheapest first and every failure is a 401 with the reason: headers present and
well formed; timestamp within `kiosk_clock_skew_s` of the server's clock either way; key
known, not revoked, not past its grace, kiosk active; signature valid over the exact method,
path, query and body; nonce never seen before. The nonce is recorded only after the
signature verifies, so nobody can burn a kiosk's nonces with forged requests, and it is kept
for twice the skew: longer than any timestamp it could be replayed with is accepted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated

import redis.exceptions
from fastapi import Depends, HTTPException, Request, status

from api.deps import KioskKeysDep, ResourcesDep, SettingsDep
from core.kiosk_signing import SCHEME, SignatureError, parse_headers, verify_parsed

LAST_SEEN_INTERVAL_S = 60


@dataclass(frozen=True)
class Kiosk:
    """The authenticated kiosk a request comes from."""

    tenant: str
    kiosk_id: str
    school_id: str
    merchant_id: str
    key_id: str


def _refuse(reason: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail=f"kiosk signature refused: {reason}",
        headers={"WWW-Authenticate": SCHEME},
    )


def signed_path(request: Request) -> str:
    """The path and query as the kiosk sent them: raw_path is not percent-decoded, so the
    server hashes the same bytes the kiosk signed."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) and raw else request.url.path
    query = request.scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


class KioskCaller:
    """FastAPI dependency: `kiosk: Annotated[Kiosk, Depends(KioskCaller())]` (or KioskDep).
    Bearer tokens do not count here: a kiosk route needs a kiosk's signature."""

    async def __call__(
        self, request: Request, keys: KioskKeysDep, resources: ResourcesDep, settings: SettingsDep
    ) -> Kiosk:
        try:
            signed = parse_headers(request.headers)
        except SignatureError as err:
            raise _refuse(str(err)) from err

        skew = settings.kiosk_clock_skew_s
        drift = signed.timestamp - int(time.time())
        if drift < -skew:
            raise _refuse(f"timestamp is {-drift} s old (more than {skew} s): check the clock")
        if drift > skew:
            raise _refuse(f"timestamp is {drift} s in the future (more than {skew} s)")

        key = await keys.lookup(signed.tenant, signed.kiosk_id, signed.key_id)
        if key is None:
            raise _refuse(await keys.refusal(signed.tenant, signed.kiosk_id, signed.key_id))

        body = await request.body()
        if not verify_parsed(key.public_key, signed, request.method, signed_path(request), body):
            raise _refuse("bad signature (wrong key, or the request changed after signing)")

        nonce_key = f"saku:nonce:{signed.tenant}:{signed.kiosk_id}:{signed.nonce}"
        try:
            fresh = await resources.valkey.set(nonce_key, 1, nx=True, ex=2 * skew)
        except redis.exceptions.RedisError as err:
            # fail closed: without the nonce store a replay cannot be told from a request
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, detail="replay protection unavailable"
            ) from err
        if not fresh:
            raise _refuse("nonce already used (a replayed request)")

        seen = key.last_seen_at
        if seen is None or time.time() - seen.timestamp() >= LAST_SEEN_INTERVAL_S:
            await keys.touch(signed.tenant, signed.kiosk_id, LAST_SEEN_INTERVAL_S)
        return Kiosk(
            tenant=key.tenant,
            kiosk_id=key.kiosk_id,
            school_id=key.school_id,
            merchant_id=key.merchant_id,
            key_id=key.key_id,
        )


KioskDep = Annotated[Kiosk, Depends(KioskCaller())]
