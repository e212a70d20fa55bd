"""Kiosk request nonces in Valkey, with the nonce epoch: when the store began.

Valkey is not backed up; the epoch lets the signature check tell that the nonces were lost
(api.kiosk_auth says what it then does). Both are written in one round trip per request."""

from __future__ import annotations

import redis.asyncio as redis

NONCE_EPOCH_KEY = "saku:nonce-epoch"


class KioskNonces:
    def __init__(self, valkey: redis.Redis) -> None:
        self.valkey = valkey

    async def record(
        self, tenant: str, kiosk_id: str, nonce: str, keep_s: int, now_ms: int
    ) -> tuple[bool, int | None]:
        """Record a nonce for `keep_s` seconds, and the epoch as `now_ms` unless one is
        recorded: (whether the nonce is new, the epoch recorded before, None if none was).
        Raises redis.RedisError when Valkey cannot be reached."""
        async with self.valkey.pipeline(transaction=False) as pipe:
            pipe.set(f"saku:nonce:{tenant}:{kiosk_id}:{nonce}", 1, nx=True, ex=keep_s)
            pipe.set(NONCE_EPOCH_KEY, now_ms, nx=True, get=True)
            fresh, epoch = await pipe.execute()
        return bool(fresh), None if epoch is None else int(epoch)
