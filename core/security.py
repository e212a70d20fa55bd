"""Passwords (argon2id, memory-hard), bearer tokens (JWT) and the principal they carry."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# RFC 9106's second recommended option (64 MiB, 3 passes): memory-hard.
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4)
_ALGORITHM = "HS256"
MIN_PASSWORD_LENGTH = 10


class Role(StrEnum):
    ADMIN = "admin"
    SCHOOL_STAFF = "school_staff"
    GUARDIAN = "guardian"
    OPERATOR = "operator"
    ANALYST = "analyst"
    INTEGRATION = "integration"  # a machine client: the bank's core system, a kiosk fleet
    # confirms an operator's decision on an interdicted transaction (four-eyes)
    SUPERVISOR = "supervisor"


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class Principal:
    """Who is calling, and what they are scoped to."""

    subject: str
    role: Role
    tenant: str
    school: str | None = None
    students: tuple[str, ...] = field(default_factory=tuple)


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def hash_pin(pin: str) -> str:
    """A kiosk PIN (4-8 digits): hashed like a password; its short length is made up for
    by the lockout after a few wrong tries, not by the hash."""
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise ValueError("a PIN is 4 to 8 digits")
    return _hasher.hash(pin)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return _hasher.hash(uuid.uuid4().hex)


def verify_unknown_user(password: str) -> bool:
    """Spend the time a real check costs on a hash of nothing anyone knows, so response times
    do not reveal which usernames exist."""
    verify_password(_dummy_hash(), password)
    return False


def issue_token(principal: Principal, *, secret: str, issuer: str, ttl_seconds: int) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": principal.subject,
        "role": principal.role.value,
        "tenant": principal.tenant,
        "iss": issuer,
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    if principal.school:
        claims["school"] = principal.school
    if principal.students:
        claims["students"] = list(principal.students)
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def decode_token(token: str, *, secret: str, issuer: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
            issuer=issuer,
            options={"require": ["sub", "role", "tenant", "exp", "iat", "iss"]},
        )
        return Principal(
            subject=str(claims["sub"]),
            role=Role(claims["role"]),
            tenant=str(claims["tenant"]),
            school=claims.get("school"),
            students=tuple(claims.get("students", ())),
        )
    except (jwt.PyJWTError, ValueError) as err:
        raise InvalidToken(str(err)) from err
