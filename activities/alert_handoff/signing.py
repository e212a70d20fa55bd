"""The alert webhook's signature: HMAC-SHA256 with the tenant's secret over the timestamp,
a dot and the raw body, sent as

    X-Saku-Timestamp: 1767225600
    X-Saku-Signature: v1=<hex digest>

A receiver recomputes it over the body as received, compares in constant time, and refuses
a timestamp too far from its clock (a replayed request). Every try is signed anew."""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Saku-Timestamp"
SIGNATURE_HEADER = "X-Saku-Signature"
ALERT_ID_HEADER = "X-Saku-Alert-Id"  # the evaluation's id: a receiver dedupes on it
VERSION = "v1"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Saku-Signature value for this body sent at `timestamp` (Unix seconds)."""
    signed = str(timestamp).encode() + b"." + body
    return f"{VERSION}=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(
    secret: str, timestamp: str, signature_header: str, body: bytes, now: float, tolerance_s: int
) -> bool:
    """Whether a received request is the sender's: the signature matches and its timestamp
    is within `tolerance_s` of `now` (what a receiver does; Saku's tests use it)."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent_at) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, sent_at, body), signature_header)
