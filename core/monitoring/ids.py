"""UUID version 7 (RFC 9562): time-ordered ids, built from a clock and random bits given by
the caller, so workflow code can pass its deterministic clock and random source."""

from __future__ import annotations

import os
import time
import uuid


def uuid7(unix_ms: int, random_bits: int) -> str:
    """unix_ms: 48-bit timestamp; random_bits: at least 74 random bits (extra are ignored)."""
    rand_a = (random_bits >> 62) & 0xFFF
    rand_b = random_bits & ((1 << 62) - 1)
    value = (unix_ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return str(uuid.UUID(int=value))


def evaluation_id_now() -> str:
    """An evaluation id outside workflow code (activities): the system clock and urandom.
    Workflow code builds its ids with `uuid7` from its own deterministic clock and random."""
    return uuid7(int(time.time() * 1000), int.from_bytes(os.urandom(10)))
