"""The WAL arithmetic restore relies on, and which backups retention may remove."""

from __future__ import annotations

from activities.dr.catalogue import to_prune
from core.dr.types import BackupRecord
from core.dr.wal import (
    format_lsn,
    missing_segments,
    parse_lsn,
    parse_segment_name,
    segment_name,
    segment_number,
)

MB16 = 16 * 1024 * 1024


def test_segment_names_follow_postgresql_s_scheme() -> None:
    lsn = parse_lsn("16/B374D848")
    assert format_lsn(lsn) == "16/B374D848"
    segno = segment_number(lsn, MB16)
    assert segment_name(1, segno, MB16) == "0000000100000016000000B3"
    assert parse_segment_name("0000000100000016000000B3", MB16) == (1, segno)
    # the last segment of one 4 GiB "log" is followed by the first of the next
    assert segment_name(1, 0xFF, MB16) == "0000000100000000000000FF"
    assert segment_name(1, 0x100, MB16) == "000000010000000100000000"


def test_a_gap_is_found_between_the_first_segment_and_the_newest() -> None:
    names = [segment_name(1, n, MB16) for n in (4, 5, 7, 8)] + ["00000001.history"]
    assert missing_segments(names, 1, 4, MB16) == [segment_name(1, 6, MB16)]
    assert missing_segments(names, 1, 7, MB16) == []
    assert missing_segments(names, 2, 4, MB16) == []  # another timeline's files do not count
    assert missing_segments(names[:2], 1, 4, MB16) == []


def record(i: int, verified: bool) -> BackupRecord:
    return BackupRecord(
        id=f"b{i}",
        started_at=f"2026-01-0{i}T00:00:00+00:00",
        finished_at=f"2026-01-0{i}T00:10:00+00:00",
        timeline=1,
        start_lsn="0/1",
        end_lsn="0/2",
        start_wal="x",
        end_wal="y",
        wal_segment_size=MB16,
        size_bytes=1,
        verified=verified,
        verify_detail="",
        trigger="test",
    )


def test_retention_keeps_the_newest_and_never_the_last_good_backup() -> None:
    backups = [record(1, True), record(2, True), record(3, True), record(4, True)]
    assert [r.id for r in to_prune(backups, 2)] == ["b1", "b2"]
    assert to_prune(backups, 5) == []
    # the newest two failed their verification: the last good one stays
    failing = [record(1, True), record(2, True), record(3, False), record(4, False)]
    assert [r.id for r in to_prune(failing, 2)] == ["b1"]
