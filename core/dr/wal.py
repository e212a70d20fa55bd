"""WAL arithmetic: LSNs, segment file names, and gaps in an archive (pure functions)."""

from __future__ import annotations

import re
from collections.abc import Iterable

SEGMENT_NAME = re.compile(r"^[0-9A-F]{24}$")


def parse_lsn(text: str) -> int:
    """'16/B374D848' -> its 64-bit position."""
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def format_lsn(lsn: int) -> str:
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def _per_xlogid(segment_size: int) -> int:
    return 0x100000000 // segment_size


def segment_number(lsn: int, segment_size: int) -> int:
    return lsn // segment_size


def segment_name(timeline: int, segno: int, segment_size: int) -> str:
    """The file name PostgreSQL gives the segment `segno` of `timeline`."""
    per = _per_xlogid(segment_size)
    return f"{timeline:08X}{segno // per:08X}{segno % per:08X}"


def parse_segment_name(name: str, segment_size: int) -> tuple[int, int]:
    """A segment file name -> (timeline, segment number)."""
    if not SEGMENT_NAME.match(name):
        raise ValueError(f"{name!r} is not a WAL segment name")
    return int(name[:8], 16), int(name[8:16], 16) * _per_xlogid(segment_size) + int(name[16:], 16)


def missing_segments(
    present: Iterable[str], timeline: int, first: int, segment_size: int
) -> list[str]:
    """The segments of `timeline` from `first` up to the newest present one that are not
    present: recovery would stop at the first of them, silently, unless told a target."""
    numbers = set()
    for name in present:
        if SEGMENT_NAME.match(name):
            tli, segno = parse_segment_name(name, segment_size)
            if tli == timeline and segno >= first:
                numbers.add(segno)
    if not numbers:
        return []
    return [
        segment_name(timeline, n, segment_size)
        for n in range(first, max(numbers) + 1)
        if n not in numbers
    ]
