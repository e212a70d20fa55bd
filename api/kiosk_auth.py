"""Kiosk authentication: every kiosk request carries an Ed25519 signature (core.kiosk_signing).

Checks run cheapest first and every failure is a 401 with the reason: headers present and
well formed; timestamp within `kiosk_clock_skew_s` of the server's clock either way; key
known, not revoked, not past its grace, kiosk active; signature valid over the exact method,
path, query and body; nonce never seen before. The nonce is recorded only after the
signature verifies, so nobody can burn a kiosk's nonces with forged requests, and it is kept
for twice the skew: longer than any timestamp it could be replayed with is accepted.

Nonces live in Valkey, which is not backed up. If it loses them (a flush, a restart without
its data, a failover to an empty replica), a request accepted shortly before could be
replayed once within the skew. So Valkey also holds the nonce epoch: when the store began,
written by the first kiosk request that finds it missing (SET NX, in the same round trip as
the nonce). A kiosk seen before the epoch, recently enough to have nonces that were still
live (its `last_seen_at`, kept to within LAST_SEEN_INTERVAL_S of its last request), has its
requests signed before epoch + skew refused with 503 and Retry-After: nothing it sent before
the loss can be replayed, and its own requests pass again at most one skew later (its agent
sells offline meanwhile, as on any 5xx). Kiosks not seen in that time, and kiosks first seen
after the loss, are not held up; neither is a fresh install, which has no such kiosk.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import redis.exceptions
from fastapi import Depends, HTTPException, Request, status

from api.deps import KioskKeysDep, KioskNoncesDep, SettingsDep
from core.kiosk_signing import SCHEME, SignatureError, parse_headers, verify_parsed

log = logging.getLogger(__name__)

LAST_SEEN_INTERVAL_S = 60
# the API's and PostgreSQL's clocks may differ by this much (NTP keeps them far closer)
CLOCK_MARGIN_S = 5


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


def held_for(epoch_ms: int, last_seen_at: datetime | None, timestamp: int, skew: int) -> int:
    """Seconds until a request signed at `timestamp` by a kiosk last seen at `last_seen_at`
    may pass, given the nonce store began at `epoch_ms`; 0 when it may pass now.

    A replay that passes after the loss was accepted before it, less than 2 * skew before
    the epoch (its timestamp is then at least epoch - skew, its first acceptance at most skew
    earlier), and is signed before epoch + skew (timestamps pass up to skew ahead). Its kiosk
    was then seen before the epoch and at most 2 * skew + LAST_SEEN_INTERVAL_S before it: such
    a kiosk's requests signed before epoch + skew are held, the replay among them."""
    if last_seen_at is None:
        return 0
    epoch = epoch_ms / 1000
    seen = last_seen_at.timestamp()
    recent = epoch - 2 * skew - LAST_SEEN_INTERVAL_S - CLOCK_MARGIN_S
    # a kiosk first seen after the loss has last_seen_at >= epoch, the epoch being set by
    # the first request after it (the API's and PostgreSQL's clocks assumed in step)
    if not recent <= seen < epoch:
        return 0
    return max(0, math.ceil(epoch + skew - timestamp))


class KioskCaller:
    """FastAPI dependency: `kiosk: Annotated[Kiosk, Depends(KioskCaller())]` (or KioskDep).
    Bearer tokens do not count here: a kiosk route needs a kiosk's signature."""

    async def __call__(
        self,
        request: Request,
        keys: KioskKeysDep,
        nonces: KioskNoncesDep,
        settings: SettingsDep,
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

        now_ms = int(time.time() * 1000)
        try:
            fresh, epoch = await nonces.record(
                signed.tenant, signed.kiosk_id, signed.nonce, 2 * skew, now_ms
            )
        except redis.exceptions.RedisError as err:
            # fail closed: without the nonce store a replay cannot be told from a request
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, detail="replay protection unavailable"
            ) from err
        if not fresh:
            raise _refuse("nonce already used (a replayed request)")
        if epoch is None:
            log.warning("kiosk nonce store (re)started: Valkey had lost it, or it is new")
        wait = held_for(
            epoch if epoch is not None else now_ms,
            key.last_seen_at,
            signed.timestamp,
            skew,
        )
        if wait > 0:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                detail="replay protection is rebuilding after Valkey lost its data: "
                f"send the request again, signed anew, in {wait} s",
                headers={"Retry-After": str(wait)},
            )

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
