"""Which running process `saku stack` counts as one it started (and may stop), and which
of the processes it starts die with the command that started them."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from saku.stack.process import ManagedProcess, wait_until


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


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_process_started_to_die_with_its_parent_does_and_the_others_live_on(
    tmp_path: Path,
) -> None:
    # `saku up` ties what it starts to itself; `saku stack up` leaves its servers running
    script = f"""
import signal, sys
from pathlib import Path
from saku.stack.process import ManagedProcess
run, log = Path({str(tmp_path / "run")!r}), Path({str(tmp_path / "log")!r})
tied = ManagedProcess("tied", run, log).start(["sleep", "60"], die_with_parent=signal.SIGTERM)
free = ManagedProcess("free", run, log).start(["sleep", "60"])
print(tied, free, flush=True)
sys.stdin.read()
"""
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    tied, free = (int(pid) for pid in parent.stdout.readline().split())
    try:
        assert _alive(tied) and _alive(free)
        parent.kill()
        parent.wait(5)
        assert wait_until(lambda: not _alive(tied), 5)
        assert _alive(free)
    finally:
        for pid in (tied, free):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_only_the_main_thread_starts_a_process_that_dies_with_its_parent(tmp_path: Path) -> None:
    # the kernel ties the signal to the thread that forked: a finished thread would kill it
    process = ManagedProcess("sleeper", tmp_path / "run", tmp_path / "log")
    with ThreadPoolExecutor(1) as pool:
        started = pool.submit(process.start, ["sleep", "60"], die_with_parent=signal.SIGTERM)
        with pytest.raises(RuntimeError, match="main thread"):
            started.result()
