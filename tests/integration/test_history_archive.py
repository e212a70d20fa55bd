"""The workflow-history archive and its replay, on the session's stack: `saku dr archive`
and `saku dr replay` as an operator runs them, the archive's files (compressed, by namespace,
type and day; each history once, however often or however interrupted the runs), and the
online copy of the embedded Temporal server's store.

The module works in a namespace of its own, so the archive holds only its workflows."""

from __future__ import annotations

import asyncio
import gzip
import json
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import Client

from activities.dr.history_archive import (
    ArchiveState,
    archive_closed_histories,
    copy_sqlite_store,
    read_archive,
)
from core.selfcheck import SelfCheckRequest
from core.settings import Settings
from core.temporal.client import connect, ensure_namespace_and_search_attributes
from saku.wiring import run_worker
from tests.replay.record import CORPUS
from workflows.noop import NoOpWorkflow
from workflows.selfcheck import SelfCheckWorkflow

pytestmark = pytest.mark.integration


@dataclass
class Archiving:
    settings: Settings  # a namespace, task queue and backup folder of this module's own
    client: Client


@pytest.fixture(scope="module")
async def archiving(
    stack: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Archiving]:
    """A worker (every workflow and activity) in a namespace of its own."""
    name = f"archive-{uuid.uuid4().hex[:8]}"
    settings = stack.model_copy(
        update={
            "temporal_namespace": name,
            "task_queue": name,
            "backup_dir": tmp_path_factory.mktemp("backups"),
        }
    )
    client = await connect(settings)
    await ensure_namespace_and_search_attributes(client)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, stop))
    yield Archiving(settings, client)
    stop.set()
    await worker


async def run_some(archiving: Archiving, n: int = 3) -> set[str]:
    """n no-op and n self-check workflows run to the end; their run ids."""
    runs = set()
    for i in range(n):
        tag = uuid.uuid4().hex[:8]
        check = SelfCheckRequest(tag, "archive test")
        for run, arg in ((NoOpWorkflow.run, f"noop {i}"), (SelfCheckWorkflow.run, check)):
            handle = await archiving.client.start_workflow(
                run,
                arg,
                id=f"archive-test-{tag}-{i}-{len(runs)}",  # type: ignore[arg-type]
                task_queue=archiving.settings.task_queue,
            )
            await handle.result()
            runs.add(handle.result_run_id or "")
    return runs


async def test_each_closed_history_is_archived_once_compressed_by_namespace_type_and_day(
    archiving: Archiving, tmp_path: Path
) -> None:
    runs = await run_some(archiving)
    now = datetime.now(UTC)
    first = await archive_closed_histories(archiving.client, tmp_path, now=now, settle=timedelta(0))
    assert first.archived >= len(runs) and first.by_type["NoOp"] >= 3
    namespace = archiving.settings.temporal_namespace
    files = sorted((tmp_path / "histories").rglob("*.jsonl.gz"))
    for path in files:
        # histories/<namespace>/<type>/<UTC day>/<from>--<until>.jsonl.gz
        ns, workflow_type, day = path.relative_to(tmp_path / "histories").parts[:3]
        assert ns == namespace and workflow_type in {"NoOp", "SelfCheck", "HistoryArchive"}
        assert day == now.date().isoformat()  # the day the test ran (UTC)
        lines = gzip.decompress(path.read_bytes()).splitlines()
        assert {json.loads(line)["workflow_type"] for line in lines} == {workflow_type}
    archived = [entry.run_id for _, entry in read_archive(tmp_path)]
    assert runs <= set(archived)

    # again, and again after more workflows: nothing is written twice, no file is rewritten
    written = {path: path.stat().st_mtime_ns for path in files}
    again = await archive_closed_histories(
        archiving.client, tmp_path, now=datetime.now(UTC), settle=timedelta(0)
    )
    more = await run_some(archiving, 1)
    third = await archive_closed_histories(
        archiving.client, tmp_path, now=datetime.now(UTC), settle=timedelta(0)
    )
    assert again.archived == 0
    assert third.archived >= len(more)
    assert {p: p.stat().st_mtime_ns for p in files} == written
    archived = [entry.run_id for _, entry in read_archive(tmp_path)]
    assert len(archived) == len(set(archived))
    assert runs | more <= set(archived)


async def test_a_run_that_died_is_finished_by_the_next_without_a_history_twice(
    archiving: Archiving, tmp_path: Path
) -> None:
    runs = await run_some(archiving, 2)
    state_file = tmp_path / "histories" / archiving.settings.temporal_namespace / "state.json"
    since = datetime.now(UTC) - timedelta(hours=1)  # before this module's namespace existed
    ArchiveState(archived_until=since).save(state_file)
    # The window ends a second before now, and the runs above closed before it: what other
    # tests' workflows close meanwhile stays out of both archive runs, and what closed in
    # the window has been listed by visibility by then (as the schedule's settle time does)
    await asyncio.sleep(2)
    until = datetime.now(UTC) - timedelta(seconds=1)
    await archive_closed_histories(archiving.client, tmp_path, now=until, settle=timedelta(0))
    files = list((tmp_path / "histories").rglob("*.jsonl.gz"))
    [kept] = [p for p in files if "NoOp" in p.parts]
    kept_at = kept.stat().st_mtime_ns
    # As if that run had died after writing the NoOp file: its window still pending, the
    # other files not written, and a half-written one left behind.
    for path in files:
        if path != kept:
            path.unlink()
    (kept.parent / f".{kept.name}.999.part").write_bytes(b"half a file")
    ArchiveState(archived_until=since, pending_until=until).save(state_file)

    later = datetime.now(UTC) + timedelta(minutes=5)
    finished = await archive_closed_histories(
        archiving.client, tmp_path, now=later, settle=timedelta(0)
    )
    assert finished.until == until.isoformat()  # the pending window, not a new one
    assert kept.stat().st_mtime_ns == kept_at  # complete, so not written again
    assert sorted((tmp_path / "histories").rglob("*.jsonl.gz")) == sorted(files)
    archived = [entry.run_id for _, entry in read_archive(tmp_path)]
    assert len(archived) == len(set(archived))
    assert runs <= set(archived)
    assert ArchiveState.load(state_file) == ArchiveState(archived_until=until)


def test_the_temporal_store_is_copied_online_and_the_last_copies_kept(
    stack: Settings, tmp_path: Path
) -> None:
    copies = []
    for minute in range(5):
        moment = datetime(2026, 12, 7, 10, minute, tzinfo=UTC)
        copy = copy_sqlite_store(stack.temporal_db_file, tmp_path, now=moment)
        assert copy is not None
        copies.append(copy)
    assert sorted(tmp_path.iterdir()) == copies[-3:]
    with sqlite3.connect(copies[-1]) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "executions" in tables
    assert copy_sqlite_store(tmp_path / "no.db", tmp_path, now=datetime.now(UTC)) is None


def saku(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "saku", *args],
        env=settings.as_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_dr_archive_then_dr_replay_as_an_operator_runs_them(archiving: Archiving) -> None:
    runs = await run_some(archiving, 1)
    settings = archiving.settings
    archived = await asyncio.to_thread(saku, settings, "dr", "archive", "--settle", "0")
    assert archived.returncode == 0, archived.stderr
    assert "histories archived" in archived.stdout
    assert f"Temporal store copied to {settings.resolved_backup_dir()}" in archived.stdout
    histories = settings.resolved_backup_dir() / "histories"
    assert runs <= {entry.run_id for _, entry in read_archive(histories)}

    replayed = await asyncio.to_thread(saku, settings, "dr", "replay")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    n = len(list(read_archive(histories)))
    assert f"histories replayed {n}, non-deterministic 0" in replayed.stdout
    only = await asyncio.to_thread(
        saku,
        settings,
        "dr",
        "replay",
        "--type",
        "NoOp",
        "--since",
        datetime.now(UTC).date().isoformat(),
    )
    noops = len([e for _, e in read_archive(histories) if e.workflow_type == "NoOp"])
    assert f"histories replayed {noops}, non-deterministic 0" in only.stdout


def test_dr_replay_names_a_non_deterministic_history_and_its_first_mismatching_event(
    stack: Settings, tmp_path: Path
) -> None:
    # an erasure's history in which the first step is recorded as the last one's: the
    # current code schedules `erase_at_rest` where the history says `record_erased`
    [source] = (CORPUS / "saku" / "EraseBiometrics").glob("*.jsonl.gz")
    record = json.loads(gzip.decompress(source.read_bytes()).splitlines()[0])
    scheduled = [
        e
        for e in record["history"]["events"]
        if e["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"
    ]
    activity = scheduled[0]["activityTaskScheduledEventAttributes"]["activityType"]
    assert activity["name"] == "biometrics.erase_at_rest"
    activity["name"] = "biometrics.record_erased"
    archive = tmp_path / "archive"
    shutil.copytree(CORPUS / "saku" / "NoOp", archive / "NoOp")  # good ones beside it
    good = sum(
        len(gzip.decompress(f.read_bytes()).splitlines()) for f in (archive / "NoOp").iterdir()
    )
    (archive / "EraseBiometrics").mkdir()
    (archive / "EraseBiometrics" / "tampered.jsonl.gz").write_bytes(
        gzip.compress(json.dumps(record).encode() + b"\n")
    )
    replayed = saku(stack, "dr", "replay", "--dir", str(archive))
    assert replayed.returncode == 1
    event = scheduled[0]["eventId"]
    assert (
        f"NON-DETERMINISTIC EraseBiometrics {record['workflow_id']} (run {record['run_id']}): "
        f"first mismatching event {event} ActivityTaskScheduled" in replayed.stdout
    ), replayed.stdout
    assert f"histories replayed {good + 1}, non-deterministic 1" in replayed.stdout


def test_dr_replay_says_what_to_fix(stack: Settings, tmp_path: Path) -> None:
    missing = saku(stack, "dr", "replay", "--dir", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "no archive at" in missing.stderr
    unknown = saku(stack, "dr", "replay", "--dir", str(tmp_path), "--type", "Nope")
    assert unknown.returncode == 2 and "no workflow type 'Nope'" in unknown.stderr
    bad_day = saku(stack, "dr", "replay", "--since", "yesterday")
    assert bad_day.returncode == 2 and "is not a date" in bad_day.stderr
