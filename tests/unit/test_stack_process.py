"""Which running process `saku stack` counts as one it started (and may stop)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from saku.stack.process import ManagedProcess


@pytest.fixture
def sleeper(tmp_path: Path) -> Iterator[ManagedProcess]:
    process = ManagedProcess("sleeper", tmp_path / "run", tmp_path / "log")
    pid = process.start(["sleep", "60"])
    yield process
    # by pid: the tests make the pid file disown it
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _shift_start_time(process: ManagedProcess, seconds: float, **changes: object) -> None:
    recorded = json.loads(process.pid_file.read_text())
    recorded["started"] += seconds
    recorded.update(changes)
    process.pid_file.write_text(json.dumps(recorded))


def test_a_server_is_still_ours_when_a_resume_moved_its_start_time(
    sleeper: ManagedProcess,
) -> None:
    # after a suspend and resume the start time psutil reports moved by seconds
    pid = sleeper.running_pid()
    assert pid is not None
    _shift_start_time(sleeper, 5.0)
    assert sleeper.running_pid() == pid
    assert sleeper.stop()
    assert sleeper.running_pid() is None


def test_a_recycled_pid_running_another_program_is_not_ours(sleeper: ManagedProcess) -> None:
    _shift_start_time(sleeper, 5.0, exe="/usr/bin/valkey-server")
    assert sleeper.running_pid() is None
    assert sleeper.has_stale_pid_file()


def test_a_pid_file_from_before_executables_were_recorded_is_judged_by_start_time(
    sleeper: ManagedProcess,
) -> None:
    recorded = json.loads(sleeper.pid_file.read_text())
    del recorded["exe"]
    sleeper.pid_file.write_text(json.dumps(recorded))
    assert sleeper.running_pid() == recorded["pid"]
    _shift_start_time(sleeper, 5.0)
    assert sleeper.running_pid() is None
