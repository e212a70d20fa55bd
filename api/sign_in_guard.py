"""What stands between a password guesser and the password hashes.

* `SignInThrottle`: failed sign-ins are counted per username and per client address in
  Valkey (shared by every API process) over a window; past the limit, sign-in answers 429
  with Retry-After before any hash is computed, until the window ends. A success clears the
  username's count. The per-address limit is higher: a school's office shares one address.
* `PasswordChecks`: each argon2id check takes 64 MiB and tens of milliseconds of CPU, so
  they run off the event loop, a few at once; beyond a short queue the caller is told the
  server is busy (503) instead of being queued into memory exhaustion.

If Valkey is unreachable, sign-in goes on unthrottled (and says so in the log): locking
every user out while a cache is down would be worse, and the hash bound still holds.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

import redis.asyncio as redis
from fastapi import HTTPException, status

from activities.accounts import Accounts, User
from core.security import verify_password, verify_unknown_user

log = logging.getLogger(__name__)


class SignInThrottle:
    def __init__(
        self, valkey: redis.Redis, *, per_user: int, per_address: int, window_s: int
    ) -> None:
        self.valkey = valkey
        self.limits = {"user": per_user, "address": per_address}
        self.window_s = window_s

    @staticmethod
    def _key(kind: str, value: str) -> str:
        # hashed: usernames and addresses are the client's text, of any shape
        return f"saku:sign-in-failures:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"

    def _keys(self, username: str, address: str) -> dict[str, str]:
        return {
            "user": self._key("user", username.lower()),
            "address": self._key("address", address),
        }

    async def check(self, username: str, address: str) -> None:
        """429 with Retry-After if this username or address has failed too often."""
        keys = self._keys(username, address)
        try:
            async with self.valkey.pipeline(transaction=False) as pipe:
                for key in keys.values():
                    pipe.get(key)
                    pipe.ttl(key)
                replies = await pipe.execute()
        except redis.RedisError as err:
            log.warning("sign-in throttle unavailable", extra={"reason": type(err).__name__})
            return
        for index, kind in enumerate(keys):
            failures, ttl = int(replies[2 * index] or 0), int(replies[2 * index + 1])
            if failures >= self.limits[kind]:
                retry_after = max(ttl, 1)
                who = "this user" if kind == "user" else "this address"
                raise HTTPException(
                    status.HTTP_429_TOO_MANY_REQUESTS,
                    detail=f"too many failed sign-ins for {who}; try again in {retry_after} s",
                    headers={"Retry-After": str(retry_after)},
                )

    async def failed(self, username: str, address: str) -> None:
        try:
            async with self.valkey.pipeline(transaction=False) as pipe:
                for key in self._keys(username, address).values():
                    pipe.incr(key)
                    pipe.expire(key, self.window_s, nx=True)  # the window opens at the first
                await pipe.execute()
        except redis.RedisError as err:
            log.warning("sign-in throttle unavailable", extra={"reason": type(err).__name__})

    async def succeeded(self, username: str) -> None:
        try:
            await self.valkey.delete(self._key("user", username.lower()))
        except redis.RedisError as err:
            log.warning("sign-in throttle unavailable", extra={"reason": type(err).__name__})


class PasswordChecks:
    def __init__(self, at_once: int, queue: int) -> None:
        self._slots = asyncio.Semaphore(at_once)
        self.queue = queue
        self._waiting = 0

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether `password` matches; a None hash (no such user) costs a check all the
        same, so response times do not reveal which usernames exist."""
        if self._waiting >= self.queue:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                detail="busy checking other passwords; try again shortly",
                headers={"Retry-After": "1"},
            )
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        try:
            if password_hash is None:
                return await asyncio.to_thread(verify_unknown_user, password)
            return await asyncio.to_thread(verify_password, password_hash, password)
        finally:
            self._slots.release()


async def authenticate(
    throttle: SignInThrottle,
    checks: PasswordChecks,
    accounts: Accounts,
    username: str,
    password: str,
    address: str,
) -> User:
    """The user these credentials sign in, through the throttle: 429 (with Retry-After)
    while this username or address is locked out, 401 for a wrong username or password or a
    disabled user, 503 when too many passwords are being checked. The token endpoint and
    the web pages' sign-in share it, so both lock out alike."""
    await throttle.check(username, address)
    user = await accounts.find_user(username)
    matches = await checks.verify(user.password_hash if user else None, password)
    if user is None or user.disabled or not matches:
        await throttle.failed(username, address)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="wrong username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    await throttle.succeeded(username)
    return user
