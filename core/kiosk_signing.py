"""Kiosk request signatures (Ed25519): the canonical string, signing and verification.

Pure: no I/O, no clock except when the caller leaves the timestamp to us. The kiosk agent
and the benchmarks sign with `sign_request`; the API verifies with `verify_signature`
(key lookup, clock skew and nonce replay are the API's business, see api/kiosk_auth.py).

The signed string is these lines joined by "\\n" (no trailing newline), UTF-8:

    SAKU-KIOSK-V1
    <tenant>
    <kiosk id>
    <key id>
    <METHOD, upper case>
    <path as sent, with "?query" if any>
    <sha256 hex of the body; of b"" when there is none>
    <timestamp, unix seconds>
    <nonce, 16-64 of A-Z a-z 0-9 _ ->

Every field is bound, so a signature cannot be moved to another tenant, kiosk, key,
route or body. No field may contain a newline, so no two requests share a string.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

SCHEME = "SAKU-KIOSK-V1"

HEADER_TENANT = "X-Saku-Tenant"
HEADER_KIOSK = "X-Saku-Kiosk"
HEADER_KEY_ID = "X-Saku-Key-Id"
HEADER_TIMESTAMP = "X-Saku-Timestamp"
HEADER_NONCE = "X-Saku-Nonce"
HEADER_SIGNATURE = "X-Saku-Signature"
HEADERS = (
    HEADER_TENANT,
    HEADER_KIOSK,
    HEADER_KEY_ID,
    HEADER_TIMESTAMP,
    HEADER_NONCE,
    HEADER_SIGNATURE,
)

PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # digits only: no sign, no spaces, no exponent
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # tenant, kiosk and key ids, as the database allows


class SignatureError(ValueError):
    """Headers that cannot be verified at all; the message says which and why."""


@dataclass(frozen=True)
class SignedHeaders:
    tenant: str
    kiosk_id: str
    key_id: str
    timestamp: int
    nonce: str
    signature: bytes


def canonical_string(
    tenant: str,
    kiosk_id: str,
    key_id: str,
    method: str,
    path: str,
    body: bytes,
    timestamp: int,
    nonce: str,
) -> bytes:
    fields = [tenant, kiosk_id, key_id, method.upper(), path]
    if any("\n" in f or "\r" in f for f in fields):
        raise SignatureError("no signed field may contain a line break")
    if not path.startswith("/"):
        raise SignatureError("the path must start with '/' (path and query only, no host)")
    if not _NONCE.fullmatch(nonce):
        raise SignatureError("the nonce must be 16-64 characters of A-Z a-z 0-9 _ -")
    if timestamp < 0:
        raise SignatureError("the timestamp must be unix seconds")
    lines = [SCHEME, *fields, hashlib.sha256(body).hexdigest(), str(timestamp), nonce]
    return "\n".join(lines).encode()


def new_nonce() -> str:
    return secrets.token_urlsafe(18)  # 24 characters, 144 random bits


def sign_request(
    private_key: Ed25519PrivateKey,
    tenant: str,
    kiosk_id: str,
    key_id: str,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers to send with this request. `path` is exactly what goes on the wire after
    the host ("/v1/kiosk/whoami?x=1"); `body` the exact bytes sent."""
    ts = int(time.time()) if timestamp is None else timestamp
    nonce = new_nonce() if nonce is None else nonce
    message = canonical_string(tenant, kiosk_id, key_id, method, path, body, ts, nonce)
    signature = private_key.sign(message)
    return {
        HEADER_TENANT: tenant,
        HEADER_KIOSK: kiosk_id,
        HEADER_KEY_ID: key_id,
        HEADER_TIMESTAMP: str(ts),
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: base64.urlsafe_b64encode(signature).rstrip(b"=").decode(),
    }


def _header(headers: Mapping[str, str], name: str) -> str:
    # HTTP header names are case-insensitive; Starlette's Headers already are, a dict is not
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    if value is None or value == "":
        raise SignatureError(f"missing header {name}")
    return value


def parse_headers(headers: Mapping[str, str]) -> SignedHeaders:
    """The signing headers, checked for shape (not for validity); SignatureError if one is
    missing or malformed."""
    values = {name: _header(headers, name) for name in HEADERS}
    for name in (HEADER_TENANT, HEADER_KIOSK, HEADER_KEY_ID):
        if not _ID.fullmatch(values[name]):
            raise SignatureError(f"header {name} must be 1-64 characters of A-Z a-z 0-9 _ -")
    if not _TIMESTAMP.fullmatch(values[HEADER_TIMESTAMP]):
        raise SignatureError(f"header {HEADER_TIMESTAMP} must be unix seconds (digits only)")
    if not _NONCE.fullmatch(values[HEADER_NONCE]):
        raise SignatureError(f"header {HEADER_NONCE} must be 16-64 characters of A-Z a-z 0-9 _ -")
    signature = _decode_b64(values[HEADER_SIGNATURE], urlsafe=True)
    if signature is None or len(signature) != SIGNATURE_BYTES:
        raise SignatureError(f"header {HEADER_SIGNATURE} must be a base64url Ed25519 signature")
    return SignedHeaders(
        tenant=values[HEADER_TENANT],
        kiosk_id=values[HEADER_KIOSK],
        key_id=values[HEADER_KEY_ID],
        timestamp=int(values[HEADER_TIMESTAMP]),
        nonce=values[HEADER_NONCE],
        signature=signature,
    )


def verify_parsed(
    public_key: bytes, signed: SignedHeaders, method: str, path: str, body: bytes
) -> bool:
    """True if `signed.signature` is this key's signature over this request."""
    if len(public_key) != PUBLIC_KEY_BYTES:
        return False
    try:
        message = canonical_string(
            signed.tenant,
            signed.kiosk_id,
            signed.key_id,
            method,
            path,
            body,
            signed.timestamp,
            signed.nonce,
        )
        Ed25519PublicKey.from_public_bytes(public_key).verify(signed.signature, message)
    except (InvalidSignature, SignatureError, ValueError):
        return False
    return True


def verify_signature(
    public_key: bytes, headers: Mapping[str, str], method: str, path: str, body: bytes
) -> bool:
    """True if the headers carry a valid signature by this key over this request. Says
    nothing about the timestamp's age or the nonce's novelty: the caller checks those."""
    try:
        signed = parse_headers(headers)
    except SignatureError:
        return False
    return verify_parsed(public_key, signed, method, path, body)


def generate_key_pair() -> tuple[Ed25519PrivateKey, bytes]:
    """A new private key and its raw 32-byte public key."""
    private_key = Ed25519PrivateKey.generate()
    return private_key, public_key_bytes(private_key)


def public_key_bytes(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def encode_public_key(public_key: bytes) -> str:
    """Standard base64 of the raw 32 bytes: what POST .../keys takes as "public_key"."""
    if len(public_key) != PUBLIC_KEY_BYTES:
        raise ValueError(f"an Ed25519 public key is {PUBLIC_KEY_BYTES} bytes")
    return base64.b64encode(public_key).decode()


def decode_public_key(text: str) -> bytes:
    """The raw key from standard or url-safe base64; ValueError saying why if it is not one."""
    raw = _decode_b64(text.strip(), urlsafe="-" in text or "_" in text)
    if raw is None:
        raise ValueError("the public key is not valid base64")
    if len(raw) != PUBLIC_KEY_BYTES:
        raise ValueError(
            f"an Ed25519 public key is {PUBLIC_KEY_BYTES} raw bytes (got {len(raw)}); "
            "send the raw key in base64, not PEM or DER"
        )
    return raw


def _decode_b64(text: str, *, urlsafe: bool) -> bytes | None:
    # accept with or without padding: kiosks differ, and the padding carries no information
    padded = text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4)
    altchars = b"-_" if urlsafe else None
    try:
        return base64.b64decode(padded, altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        return None


# --- the offline journal: each sale signed when it is made -------------------------------

JOURNAL_SCHEME = "SAKU-JOURNAL-V1"


def _journal_message(entry: Mapping[str, object]) -> bytes:
    body = json.dumps(dict(entry), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return f"{JOURNAL_SCHEME}\n{body}".encode()


def sign_journal_entry(private_key: Ed25519PrivateKey, entry: Mapping[str, object]) -> str:
    """The kiosk's signature over one offline sale, made when it is sold: the journal on
    the kiosk's disk cannot be altered afterwards without the key."""
    signature = private_key.sign(_journal_message(entry))
    return base64.urlsafe_b64encode(signature).decode().rstrip("=")


def verify_journal_entry(public_key: bytes, entry: Mapping[str, object], signature: str) -> bool:
    raw = _decode_b64(signature, urlsafe=True)
    if raw is None or len(public_key) != PUBLIC_KEY_BYTES:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(raw, _journal_message(entry))
    except InvalidSignature:
        return False
    return True
