"""Which kiosks are held after Valkey lost the nonces, and for how long (api.kiosk_auth)."""

from __future__ import annotations

from datetime import UTC, datetime

from api.kiosk_auth import CLOCK_MARGIN_S, LAST_SEEN_INTERVAL_S, held_for

SKEW = 30
EPOCH = 1_800_000_000  # the first kiosk request after the loss, in seconds


def seen(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def held(last_seen: datetime | None, timestamp: int) -> int:
    return held_for(EPOCH * 1000, last_seen, timestamp, SKEW)


def test_a_kiosk_seen_before_the_loss_is_held_until_one_skew_after_it() -> None:
    before = seen(EPOCH - 10)
    assert held(before, EPOCH) == SKEW
    assert held(before, EPOCH - SKEW) == 2 * SKEW  # a replay signed before the loss
    assert held(before, EPOCH + SKEW - 1) == 1
    assert held(before, EPOCH + SKEW) == 0


def test_how_long_ago_a_kiosk_may_have_been_seen_and_still_hold_live_nonces() -> None:
    oldest = EPOCH - 2 * SKEW - LAST_SEEN_INTERVAL_S - CLOCK_MARGIN_S
    assert held(seen(oldest), EPOCH) == SKEW
    assert held(seen(oldest - 1), EPOCH) == 0


def test_kiosks_never_seen_or_first_seen_after_the_loss_pass() -> None:
    assert held(None, EPOCH) == 0
    assert held(seen(EPOCH), EPOCH) == 0
    assert held(seen(EPOCH + 1), EPOCH + 1) == 0


def test_the_epoch_is_kept_to_the_millisecond() -> None:
    # seen 300 ms before the epoch, which fell 700 ms into its second: still before it
    assert held_for(EPOCH * 1000 + 700, seen(EPOCH + 0.4), EPOCH, SKEW) == SKEW + 1
