"""Kiosk request signatures: a round trip verifies, and changing any signed part breaks it."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core.kiosk_signing import (
    HEADER_KEY_ID,
    HEADER_KIOSK,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TENANT,
    HEADER_TIMESTAMP,
    HEADERS,
    SignatureError,
    canonical_string,
    decode_public_key,
    encode_public_key,
    generate_key_pair,
    parse_headers,
    public_key_bytes,
    sign_request,
    verify_signature,
)

Keys = tuple[Ed25519PrivateKey, bytes]
TS = 1_700_000_000
NONCE = "n0nce-0123456789abcdef"
BODY = b'{"amount": 5000}'
PATH = "/v1/kiosk/payments?dry_run=1"


@pytest.fixture
def keys() -> Keys:
    return generate_key_pair()


def signed(private_key: Ed25519PrivateKey) -> dict[str, str]:
    return sign_request(
        private_key,
        "tenant-a",
        "kiosk-1",
        "k_0123456789ab",
        "post",
        PATH,
        BODY,
        timestamp=TS,
        nonce=NONCE,
    )


def test_round_trip(keys: Keys) -> None:
    private_key, public_key = keys
    headers = signed(private_key)
    assert set(headers) == set(HEADERS)
    assert headers[HEADER_TIMESTAMP] == str(TS) and headers[HEADER_NONCE] == NONCE
    assert "=" not in headers[HEADER_SIGNATURE]  # base64url, unpadded
    assert verify_signature(public_key, headers, "POST", PATH, BODY)
    # header names are case-insensitive, as in HTTP
    lowered = {k.lower(): v for k, v in headers.items()}
    assert verify_signature(public_key, lowered, "post", PATH, BODY)


def test_defaults_give_a_fresh_timestamp_and_nonce(keys: Keys) -> None:
    private_key, public_key = keys
    args = ("t", "k", "key", "GET", "/v1/kiosk/whoami")
    one = sign_request(private_key, *args)
    two = sign_request(private_key, *args)
    assert one[HEADER_NONCE] != two[HEADER_NONCE]
    assert 16 <= len(one[HEADER_NONCE]) <= 64
    assert int(one[HEADER_TIMESTAMP]) > TS
    assert verify_signature(public_key, one, "GET", "/v1/kiosk/whoami", b"")


@pytest.mark.parametrize(
    ("header", "value"),
    [
        (HEADER_TENANT, "tenant-b"),
        (HEADER_KIOSK, "kiosk-2"),
        (HEADER_KEY_ID, "k_ffffffffffff"),
        (HEADER_TIMESTAMP, str(TS + 1)),
        (HEADER_NONCE, "n0nce-0123456789abcdeX"),
    ],
)
def test_changing_a_signed_header_breaks_it(keys: Keys, header: str, value: str) -> None:
    private_key, public_key = keys
    headers = signed(private_key) | {header: value}
    assert not verify_signature(public_key, headers, "POST", PATH, BODY)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", PATH, BODY),
        ("POST", "/v1/kiosk/payments", BODY),  # query dropped
        ("POST", "/v1/kiosk/payments?dry_run=0", BODY),
        ("POST", "/v1/kiosk/refunds?dry_run=1", BODY),
        ("POST", PATH, b'{"amount": 9000}'),
        ("POST", PATH, b""),
    ],
)
def test_changing_the_request_breaks_it(keys: Keys, method: str, path: str, body: bytes) -> None:
    private_key, public_key = keys
    assert not verify_signature(public_key, signed(private_key), method, path, body)


def test_another_key_or_a_forged_signature_fails(keys: Keys) -> None:
    private_key, public_key = keys
    headers = signed(private_key)
    _, other_public = generate_key_pair()
    assert not verify_signature(other_public, headers, "POST", PATH, BODY)
    forged = base64.urlsafe_b64encode(bytes(64)).decode()
    assert not verify_signature(
        public_key, headers | {HEADER_SIGNATURE: forged}, "POST", PATH, BODY
    )
    assert not verify_signature(public_key[:31], headers, "POST", PATH, BODY)


@pytest.mark.parametrize(
    ("header", "value", "reason"),
    [
        (HEADER_TIMESTAMP, "17e8", "unix seconds"),
        (HEADER_TIMESTAMP, "-5", "unix seconds"),
        (HEADER_NONCE, "short", "16-64"),
        (HEADER_NONCE, "x" * 65, "16-64"),
        (HEADER_NONCE, "has spaces in it, sadly", "16-64"),
        (HEADER_SIGNATURE, "not*base64", "signature"),
        (HEADER_SIGNATURE, "AAAA", "signature"),
        (HEADER_KIOSK, "kiosk\n1", "1-64"),
        (HEADER_TENANT, "", "missing header X-Saku-Tenant"),
    ],
)
def test_malformed_headers_are_refused_with_a_reason(
    keys: Keys, header: str, value: str, reason: str
) -> None:
    private_key, public_key = keys
    headers = signed(private_key) | {header: value}
    with pytest.raises(SignatureError, match=reason):
        parse_headers(headers)
    assert not verify_signature(public_key, headers, "POST", PATH, BODY)


def test_missing_header_is_named(keys: Keys) -> None:
    headers = signed(keys[0])
    del headers[HEADER_NONCE]
    with pytest.raises(SignatureError, match="missing header X-Saku-Nonce"):
        parse_headers(headers)


def test_padded_signature_is_accepted(keys: Keys) -> None:
    private_key, public_key = keys
    headers = signed(private_key)
    padded = headers[HEADER_SIGNATURE] + "=="
    assert verify_signature(public_key, headers | {HEADER_SIGNATURE: padded}, "POST", PATH, BODY)


def test_signing_refuses_ambiguous_input(keys: Keys) -> None:
    private_key = keys[0]
    with pytest.raises(SignatureError, match="line break"):
        sign_request(private_key, "t\nx", "k", "key", "GET", "/")
    with pytest.raises(SignatureError, match="nonce"):
        sign_request(private_key, "t", "k", "key", "GET", "/", nonce="tiny")
    with pytest.raises(SignatureError, match="path"):
        sign_request(private_key, "t", "k", "key", "GET", "http://host/x")


def test_canonical_string_layout() -> None:
    text = canonical_string("t", "k", "key", "get", "/p?q=1", b"", 12, NONCE).decode()
    assert text.split("\n") == [
        "SAKU-KIOSK-V1",
        "t",
        "k",
        "key",
        "GET",
        "/p?q=1",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "12",
        NONCE,
    ]


def test_public_key_encoding_round_trips(keys: Keys) -> None:
    private_key, public_key = keys
    assert public_key_bytes(private_key) == public_key
    text = encode_public_key(public_key)
    assert decode_public_key(text) == public_key
    urlsafe = base64.urlsafe_b64encode(public_key).decode().rstrip("=")
    assert decode_public_key(urlsafe) == public_key
    with pytest.raises(ValueError, match="32 raw bytes"):
        decode_public_key(base64.b64encode(b"x" * 44).decode())
    with pytest.raises(ValueError, match="base64"):
        decode_public_key("not base64!")
