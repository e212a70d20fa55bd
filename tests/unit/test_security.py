"""Passwords and tokens, without any service."""

from __future__ import annotations

import time

import jwt
import pytest

from core.security import (
    InvalidToken,
    Principal,
    Role,
    decode_token,
    hash_password,
    issue_token,
    verify_password,
)

SECRET = "s" * 40


def test_password_hash_is_argon2id_and_verifies() -> None:
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert "m=65536" in hashed  # memory-hard: 64 MiB per hash
    assert verify_password(hashed, "correct horse battery")
    assert not verify_password(hashed, "correct horse battery!")
    assert not verify_password("not a hash", "anything")


def test_short_passwords_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 10"):
        hash_password("short")


def test_token_round_trip_keeps_scope() -> None:
    principal = Principal("u1", Role.GUARDIAN, "tenant-a", None, ("s1", "s2"))
    token = issue_token(principal, secret=SECRET, issuer="saku", ttl_seconds=60)
    assert decode_token(token, secret=SECRET, issuer="saku") == principal


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # bad signature
        lambda t: issue_token(
            Principal("u", Role.ADMIN, "x"), secret="o" * 40, issuer="saku", ttl_seconds=60
        ),  # another secret
        lambda t: issue_token(
            Principal("u", Role.ADMIN, "x"), secret=SECRET, issuer="other", ttl_seconds=60
        ),  # another issuer
        lambda t: jwt.encode(
            {
                "sub": "u",
                "role": "admin",
                "tenant": "x",
                "iss": "saku",
                "iat": int(time.time()) - 120,
                "exp": int(time.time()) - 60,
            },
            SECRET,
            algorithm="HS256",
        ),  # expired
        lambda t: jwt.encode(
            {
                "sub": "u",
                "role": "root",
                "tenant": "x",
                "iss": "saku",
                "iat": int(time.time()),
                "exp": int(time.time()) + 60,
            },
            SECRET,
            algorithm="HS256",
        ),  # unknown role
        lambda t: jwt.encode(
            {"sub": "u", "role": "admin", "tenant": "x", "iss": "saku"}, SECRET, algorithm="HS256"
        ),  # no expiry
    ],
)
def test_bad_tokens_are_refused(tamper) -> None:  # type: ignore[no-untyped-def]
    good = issue_token(
        Principal("u", Role.ADMIN, "x"), secret=SECRET, issuer="saku", ttl_seconds=60
    )
    with pytest.raises(InvalidToken):
        decode_token(tamper(good), secret=SECRET, issuer="saku")


def test_alg_none_is_refused() -> None:
    unsigned = jwt.encode(
        {
            "sub": "u",
            "role": "admin",
            "tenant": "x",
            "iss": "saku",
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
        },
        key=None,
        algorithm="none",
    )
    with pytest.raises(InvalidToken):
        decode_token(unsigned, secret=SECRET, issuer="saku")
