"""The workflow-history archive: closed histories out of Temporal into compressed JSON files,
and an online copy of the embedded Temporal server's SQLite store.

Layout, under `SAKU_BACKUP_DIR`:

    histories/<namespace>/<workflow type>/<YYYY-MM-DD>/<from>--<until>.jsonl.gz
    histories/<namespace>/state.json       what is archived (and what a run is archiving)
    temporal/temporal-<UTC time>.db         copies of the embedded server's store

Each archive file holds the histories of one type that closed in [from, until) of one UTC
day, one JSON object per line (ids, times, and the history in Temporal's JSON form, which
`temporal workflow show --output json` also writes). Workflows carry references only, so no
fingerprint template or secret is in a history.

Idempotent: a run archives the closed histories of the window [archived until, now - settle),
cut at UTC midnights. The window's end is recorded before any file is written, so a run
that dies is finished by the next one over the same window, whose files have the same names;
a file that exists is complete (each is written aside and renamed into place) and is not
written again. Every history closes once, so it lands in exactly one file.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import gzip
import json
import os
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client, WorkflowExecution

from core.dr.history_archive import ArchiveRequest, ArchiveSummary
from core.settings import Settings

HISTORIES = "histories"
STORE_COPIES = "temporal"
STORE_COPIES_KEPT = 3
# histories fetched from the server at once
FETCHES_AT_ONCE = 8


@dataclass(frozen=True)
class ArchivedHistory:
    """One line of an archive file."""

    namespace: str
    workflow_type: str
    workflow_id: str
    run_id: str
    close_time: str  # ISO 8601, UTC
    history: dict[str, Any]  # Temporal's JSON form
    note: str | None = None  # where it came from, when that is not this Temporal (a corpus)

    def line(self) -> bytes:
        record = {
            "namespace": self.namespace,
            "workflow_type": self.workflow_type,
            "workflow_id": self.workflow_id,
            "run_id": self.run_id,
            "close_time": self.close_time,
            **({"note": self.note} if self.note else {}),
            "history": self.history,
        }
        return json.dumps(record, separators=(",", ":")).encode() + b"\n"


# --- the files ---------------------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def archive_file(
    root: Path, namespace: str, workflow_type: str, start: datetime, until: datetime
) -> Path:
    """Where the histories of a type closed in [start, until) (one UTC day) are kept."""
    day = start.astimezone(UTC).date().isoformat()
    name = f"{_stamp(start)}--{_stamp(until)}.jsonl.gz"
    return root / HISTORIES / namespace / workflow_type / day / name


def write_atomically(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all: aside, synced, renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.part")
    with open(draft, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(draft, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def write_archive_file(path: Path, histories: Iterable[ArchivedHistory]) -> int:
    """Write the histories as one compressed file (atomically); returns how many."""
    lines = [h.line() for h in histories]
    # mtime 0: the same histories make the same bytes
    write_atomically(path, gzip.compress(b"".join(lines), mtime=0))
    return len(lines)


def read_archive(
    directory: Path, *, since: date | None = None, workflow_type: str | None = None
) -> Iterator[tuple[Path, ArchivedHistory]]:
    """Every archived history under `directory` (an archive's root or any folder in it), in
    file order; `since`: closed that UTC day or later; `workflow_type`: of that type only."""
    for path in sorted(directory.rglob("*.jsonl.gz")):
        with gzip.open(path, "rb") as fh:
            for raw in fh:
                record = json.loads(raw)
                entry = ArchivedHistory(**record)
                if workflow_type is not None and entry.workflow_type != workflow_type:
                    continue
                if since is not None and datetime.fromisoformat(entry.close_time).date() < since:
                    continue
                yield path, entry


# --- what is archived ----------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveState:
    archived_until: datetime | None = None
    pending_until: datetime | None = None  # the end of the window a run is archiving

    @classmethod
    def load(cls, path: Path) -> ArchiveState:
        if not path.exists():
            return cls()
        raw = json.loads(path.read_text())
        return cls(
            *(
                datetime.fromisoformat(raw[k]) if raw.get(k) else None
                for k in ("archived_until", "pending_until")
            )
        )

    def save(self, path: Path) -> None:
        raw = {
            "archived_until": self.archived_until.isoformat() if self.archived_until else None,
            "pending_until": self.pending_until.isoformat() if self.pending_until else None,
        }
        write_atomically(path, json.dumps(raw, indent=1).encode())


def day_windows(start: datetime, until: datetime) -> Iterator[tuple[datetime, datetime]]:
    """[start, until) cut at UTC midnights."""
    while start < until:
        midnight = datetime.combine(
            start.astimezone(UTC).date() + timedelta(days=1), datetime.min.time(), UTC
        )
        end = min(midnight, until)
        yield start, end
        start = end


@contextlib.contextmanager
def _only_run(path: Path) -> Iterator[None]:
    """One archive run per archive at a time, whatever started it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"another archive run is writing {path.parent}") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _visibility_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def archive_closed_histories(
    client: Client, root: Path, *, now: datetime, settle: timedelta, heartbeat: Any = None
) -> ArchiveSummary:
    """Archive every history of `client`'s namespace that closed before `now - settle` and
    is not archived yet (see the module's docstring)."""
    namespace = client.namespace
    state_file = root / HISTORIES / namespace / "state.json"
    with _only_run(state_file.with_name(".lock")):
        state = ArchiveState.load(state_file)
        until = state.pending_until or now - settle
        if state.archived_until is None:  # the first run: all the server still keeps
            state = replace(state, archived_until=now - await _retention(client))
        start = state.archived_until
        assert start is not None
        state = replace(state, pending_until=until)
        state.save(state_file)
        summary = ArchiveSummary(until=until.isoformat())
        by_type: dict[str, int] = defaultdict(int)
        for window_start, window_end in day_windows(start, until):
            if heartbeat is not None:
                heartbeat(window_start.isoformat())
            query = (
                f'ExecutionStatus != "Running" AND CloseTime >= "{_visibility_time(window_start)}"'
                f' AND CloseTime < "{_visibility_time(window_end)}"'
            )
            closed: dict[str, list[WorkflowExecution]] = defaultdict(list)
            async for execution in client.list_workflows(query):
                closed[execution.workflow_type].append(execution)
            for workflow_type, executions in sorted(closed.items()):
                path = archive_file(root, namespace, workflow_type, window_start, window_end)
                if path.exists():  # written by a run that died before it finished
                    continue
                histories = await _fetch(client, executions)
                written = write_archive_file(path, histories)
                summary = replace(
                    summary, archived=summary.archived + written, files=summary.files + 1
                )
                by_type[workflow_type] += written
            state = replace(state, archived_until=window_end)
            state.save(state_file)
        ArchiveState(archived_until=until).save(state_file)
        return replace(summary, by_type=dict(by_type))


async def _retention(client: Client) -> timedelta:
    """How far back the namespace keeps closed workflows (nothing older is left to archive)."""
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=client.namespace)
    )
    kept = described.config.workflow_execution_retention_ttl.ToTimedelta()
    return kept + timedelta(days=1)


async def _fetch(client: Client, executions: list[WorkflowExecution]) -> list[ArchivedHistory]:
    at_once = asyncio.Semaphore(FETCHES_AT_ONCE)

    async def one(execution: WorkflowExecution) -> ArchivedHistory:
        async with at_once:
            handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
            history = await handle.fetch_history()
        assert execution.close_time is not None
        return ArchivedHistory(
            namespace=client.namespace,
            workflow_type=execution.workflow_type,
            workflow_id=execution.id,
            run_id=execution.run_id,
            close_time=execution.close_time.astimezone(UTC).isoformat(),
            history=history.to_json_dict(),
        )

    fetched = await asyncio.gather(*(one(e) for e in executions))
    return sorted(fetched, key=lambda h: (h.close_time, h.workflow_id, h.run_id))


# --- the embedded Temporal server's store ---------------------------------------------------


def copy_sqlite_store(store: Path, copies: Path, *, now: datetime) -> Path | None:
    """An online copy of a SQLite database (SQLite's backup API: consistent while the server
    writes), kept beside the last few; None if there is no such database."""
    if not store.exists():
        return None
    target = copies / f"temporal-{_stamp(now)}.db"
    draft = target.with_name(f".{target.name}.{os.getpid()}.part")
    copies.mkdir(parents=True, exist_ok=True)
    draft.unlink(missing_ok=True)
    source = sqlite3.connect(store, timeout=30)
    try:
        copy = sqlite3.connect(draft)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()
    with open(draft, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(draft, target)
    for old in sorted(copies.glob("temporal-*.db"))[:-STORE_COPIES_KEPT]:
        old.unlink()
    return target


# --- the activities -------------------------------------------------------------------------


class HistoryArchiveActivities:
    def __init__(self, settings: Settings) -> None:
        self.root = settings.resolved_backup_dir()
        # the store is Saku's to copy only when Saku runs the server
        self.store = None if settings.temporal_address else settings.temporal_db_file

    @activity.defn(name="dr.archive_histories")
    async def archive_histories(self, request: ArchiveRequest) -> ArchiveSummary:
        return await archive_closed_histories(
            activity.client(),
            self.root,
            now=datetime.now(UTC),
            settle=timedelta(seconds=request.settle_s),
            heartbeat=activity.heartbeat,
        )

    @activity.defn(name="dr.copy_temporal_store")
    async def copy_temporal_store(self, request: ArchiveRequest) -> str | None:
        if self.store is None:
            return None
        copied = await asyncio.to_thread(
            copy_sqlite_store, self.store, self.root / STORE_COPIES, now=datetime.now(UTC)
        )
        return str(copied) if copied else None
