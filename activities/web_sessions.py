"""Sessions of the web pages in Valkey (shared by every API process): a random id in an
HttpOnly cookie names the signed-in principal and the session's CSRF token. Only a hash of
the id is stored, so a copy of Valkey's data signs nobody in. Signing out deletes the
session at once; otherwise it ends with the token lifetime."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import orjson
import redis.asyncio as redis

from core.security import Principal, Role

# the cookie that carries a session's id: the web pages and the codec endpoint read it
SESSION_COOKIE = "saku_session"
# secrets.token_urlsafe(32) is 43 characters; anything much longer is not one of ours
_MAX_ID = 64


@dataclass(frozen=True)
class WebSession:
    principal: Principal
    username: str
    csrf_token: str


def _key(session_id: str) -> str:
    return f"saku:web-session:{hashlib.sha256(session_id.encode()).hexdigest()}"


class WebSessions:
    def __init__(self, valkey: redis.Redis, ttl_s: int) -> None:
        self.valkey = valkey
        self.ttl_s = ttl_s

    async def create(self, principal: Principal, username: str) -> tuple[str, WebSession]:
        """A new session (a new id at every sign-in: no fixation); returns its id and it."""
        session_id = secrets.token_urlsafe(32)
        session = WebSession(principal, username, secrets.token_urlsafe(32))
        stored = {
            "subject": principal.subject,
            "role": principal.role.value,
            "tenant": principal.tenant,
            "school": principal.school,
            "students": list(principal.students),
            "username": username,
            "csrf": session.csrf_token,
        }
        await self.valkey.set(_key(session_id), orjson.dumps(stored), ex=self.ttl_s)
        return session_id, session

    async def get(self, session_id: str) -> WebSession | None:
        """The live session of this id; None if there is none (expired, signed out, forged)."""
        if not session_id or len(session_id) > _MAX_ID:
            return None
        raw = await self.valkey.get(_key(session_id))
        if raw is None:
            return None
        stored = orjson.loads(raw)
        principal = Principal(
            subject=stored["subject"],
            role=Role(stored["role"]),
            tenant=stored["tenant"],
            school=stored["school"],
            students=tuple(stored["students"]),
        )
        return WebSession(principal, stored["username"], stored["csrf"])

    async def end(self, session_id: str) -> None:
        if session_id and len(session_id) <= _MAX_ID:
            await self.valkey.delete(_key(session_id))
