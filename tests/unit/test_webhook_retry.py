"""The webhook sender's pure parts: backoff with jitter, the body signature, payload checks."""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal

import pytest

from activities.wallet.notifications import _check_payload, backoff_delay, sign


def test_backoff_doubles_from_two_seconds() -> None:
    ceilings = [backoff_delay(n, rand=lambda: 1.0) for n in range(1, 6)]
    assert ceilings == [2, 4, 8, 16, 32]


def test_backoff_is_capped_at_an_hour_even_for_huge_attempt_counts() -> None:
    assert backoff_delay(12, rand=lambda: 1.0) == 3600
    assert backoff_delay(10_000, rand=lambda: 1.0) == 3600


def test_jitter_stays_between_half_and_the_full_delay() -> None:
    assert backoff_delay(4, rand=lambda: 0.0) == 8  # half of 16
    assert backoff_delay(4, rand=lambda: 0.5) == 12
    for _ in range(200):
        assert 8 <= backoff_delay(4) <= 16


def test_jitter_spreads_retries() -> None:
    # receivers that come back must not get every retry in the same second
    assert len({backoff_delay(6) for _ in range(50)}) > 10


def test_attempt_zero_or_below_is_treated_as_the_first() -> None:
    assert backoff_delay(0, rand=lambda: 1.0) == 2


def test_signature_is_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"id":"1"}'
    expected = hmac.new(b"k" * 32, body, hashlib.sha256).hexdigest()
    assert sign("k" * 32, body) == f"sha256={expected}"
    assert sign("k" * 32, body + b" ") != sign("k" * 32, body)


def test_payload_amounts_become_strings() -> None:
    checked = _check_payload({"amount": Decimal("12500.0000"), "items": [{"n": 2}]})
    assert checked == {"amount": "12500.0000", "items": [{"n": 2}]}


@pytest.mark.parametrize(
    "payload",
    [
        {"amount": 12.5},  # a float loses cents: amounts are strings
        {"templateData": "…"},  # nothing biometric ever leaves in a notification
        {"nested": {"fingerprintTemplate": "…"}},
        {"raw": b"\x00"},
        {"when": object()},
    ],
)
def test_payload_that_must_not_be_sent_is_refused(payload: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        _check_payload(payload)
