"""The workflow-history archive's inputs and results (counts and paths, never histories)."""

from __future__ import annotations

from dataclasses import dataclass, field

HISTORY_ARCHIVE_WORKFLOW = "HistoryArchive"
# one archive run at a time: the schedule's runs and `saku dr archive` share this id
HISTORY_ARCHIVE_ID = "history-archive"


@dataclass(frozen=True)
class ArchiveRequest:
    trigger: str  # schedule | manual
    # a history closed less than this long ago waits for the next run: the visibility
    # store, which lists closed workflows, may show it a moment after it closed
    settle_s: float = 10.0


@dataclass(frozen=True)
class ArchiveSummary:
    until: str  # ISO 8601, UTC: every history closed before it is in the archive
    archived: int = 0  # histories written by this run
    files: int = 0  # archive files written by this run
    by_type: dict[str, int] = field(default_factory=dict)  # workflow type -> histories
    # the copy of the embedded Temporal server's store made by this run (None: Temporal is
    # not the embedded one)
    store_copy: str | None = None
