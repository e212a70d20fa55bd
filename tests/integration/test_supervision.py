"""`saku up` keeps what it started running, and takes it all with it when it goes: a
crashed process is restarted, a crash loop stops everything, and SIGHUP, a lost reader
followed by Ctrl-C, or a `kill -9` of `saku up` itself leave nothing behind."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import httpx
import psutil
import pytest

from core.settings import Settings
from saku.stack import manager
from saku.stack.components import ensure_topics
from saku.stack.process import port_is_free
from tests.stackutil import private_settings, remove_var_dir

pytestmark = pytest.mark.integration

EVERYTHING = ("postgres", "valkey", "temporal", "kafka", "worker", "api", "consume")
UP = "Saku is up."


class SakuUp:
    """One `saku up` on a private stack; the pids of everything it ever started."""

    def __init__(self, settings: Settings, stdout: int | IO[str]) -> None:
        self.settings = settings
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "saku", "up"],
            env=settings.as_environment(),
            stdout=stdout,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.seen: dict[int, float] = {}  # pid -> its start time: a recycled pid is not ours

    def pids(self) -> dict[str, int]:
        found = {}
        for pid_file in (self.settings.var_dir / "run").glob("*.pid"):
            with contextlib.suppress(FileNotFoundError, ValueError):
                found[pid_file.stem] = int(json.loads(pid_file.read_text())["pid"])
        for pid in found.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                self.seen.setdefault(pid, psutil.Process(pid).create_time())
        return found

    def alive(self, pid: int) -> bool:
        try:
            process = psutil.Process(pid)
            return process.create_time() == self.seen[pid] and alive(pid)
        except psutil.NoSuchProcess:
            return False

    def ports(self) -> list[int]:
        s = self.settings
        return [s.pg_port, s.valkey_port, s.temporal_port, s.kafka_port, s.api_port]

    def all_gone(self, timeout: float) -> bool:
        return wait_until(lambda: not any(self.alive(pid) for pid in self.seen), timeout)

    def close(self) -> None:
        """Whatever happened, nothing of this `saku up` survives the test."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.pids()
        for pid in self.seen:
            if self.alive(pid):
                os.kill(pid, signal.SIGKILL)
        manager.down(self.settings)
        remove_var_dir(self.settings)


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


@pytest.fixture
def saku_up(tmp_path: Path) -> Iterator[tuple[SakuUp, Path]]:
    """`saku up`, its output in a file, once it says it is up."""
    out = tmp_path / "saku-up.out"
    with out.open("w") as stdout:
        up = SakuUp(private_settings(), stdout)
    try:
        assert wait_until(lambda: UP in out.read_text() or up.proc.poll() is not None, 180)
        assert UP in out.read_text(), out.read_text()
        assert sorted(up.pids()) == sorted(EVERYTHING)
        yield up, out
    finally:
        up.close()


def test_a_crashed_process_is_restarted_and_a_crash_loop_stops_everything(
    saku_up: tuple[SakuUp, Path],
) -> None:
    up, out = saku_up
    before = up.pids()
    worker_log = up.settings.var_dir.resolve() / "log" / "worker.log"
    ready = f"http://127.0.0.1:{up.settings.api_port}/health/ready"

    os.kill(before["worker"], signal.SIGKILL)
    answers = []
    while "worker restarted" not in out.read_text():
        answers.append(httpx.get(ready, timeout=5).status_code)
        assert up.proc.poll() is None, out.read_text()
        assert len(answers) < 300, out.read_text()
        time.sleep(0.1)
    text = out.read_text()
    assert (
        f"worker was killed by SIGKILL: restarting it in 1 s (restart 1); its log: {worker_log}"
    ) in text
    assert set(answers) == {200}, answers  # the API kept answering
    after = up.pids()
    assert after["worker"] != before["worker"] and alive(after["worker"])
    # nothing else was stopped, or restarted
    assert {n: p for n, p in after.items() if n != "worker"} == {
        n: p for n, p in before.items() if n != "worker"
    }
    assert all(alive(pid) for pid in after.values())
    assert "stopping" not in text

    # an embedded server that dies comes back too, set up again (the broker's topics)
    os.kill(after["kafka"], signal.SIGKILL)
    assert wait_until(lambda: "kafka restarted" in out.read_text(), 60), out.read_text()
    assert "the memory-only broker lost the messages it held" in out.read_text()
    assert alive(up.pids()["kafka"])
    bootstrap = f"127.0.0.1:{up.settings.kafka_port}"
    assert asyncio.run(ensure_topics(bootstrap, up.settings.topic_prefix)) == []

    # the worker crashes four more times within two minutes: Saku stops everything
    for restarts in range(1, 5):
        assert wait_until(lambda n=restarts: out.read_text().count("worker restarted") >= n, 60)
        os.kill(up.pids()["worker"], signal.SIGKILL)
    assert up.proc.wait(90) == 1, out.read_text()
    text = out.read_text()
    assert (
        "worker was killed by SIGKILL: it crashed 5 times within 120 s, so Saku stops "
        f"everything; see its log, {worker_log}"
    ) in text
    assert "stopped: kafka, temporal, valkey, postgres" in text
    assert up.all_gone(10), text
    assert all(port_is_free(port) for port in up.ports())


def test_sighup_stops_everything_saku_up_started(saku_up: tuple[SakuUp, Path]) -> None:
    up, out = saku_up
    up.proc.send_signal(signal.SIGHUP)
    assert up.proc.wait(90) == 128 + signal.SIGHUP, out.read_text()
    assert "SIGHUP received" in out.read_text()
    assert "stopped: kafka, temporal, valkey, postgres" in out.read_text()
    assert up.all_gone(10)
    assert all(port_is_free(port) for port in up.ports())


def test_a_killed_saku_up_takes_its_processes_with_it(saku_up: tuple[SakuUp, Path]) -> None:
    up, _ = saku_up
    up.proc.kill()
    up.proc.wait(10)
    # each one gets a signal from the kernel: the servers shut down, Saku's own are killed
    assert up.all_gone(10), {n: p for n, p in up.pids().items() if up.alive(p)}
    assert wait_until(lambda: all(port_is_free(port) for port in up.ports()), 10)


def test_ctrl_c_after_the_reader_of_its_output_died_still_stops_everything() -> None:
    # `saku up | tee log`, then Ctrl-C: tee dies first, and Saku writes into a broken pipe
    up = SakuUp(private_settings(), subprocess.PIPE)
    try:
        assert up.proc.stdout is not None
        reader = up.proc.stdout.fileno()  # read raw: select() cannot see a reader's buffer
        seen = b""
        deadline = time.monotonic() + 180
        while UP.encode() not in seen and time.monotonic() < deadline:
            if select.select([reader], [], [], 1)[0]:
                chunk = os.read(reader, 65536)
                if not chunk:
                    break
                seen += chunk
        assert UP.encode() in seen, seen.decode()
        assert sorted(up.pids()) == sorted(EVERYTHING)
        up.proc.stdout.close()  # the reader dies
        up.proc.send_signal(signal.SIGINT)
        assert up.proc.wait(90) == 130
        assert up.all_gone(10), {n: p for n, p in up.pids().items() if up.alive(p)}
        assert all(port_is_free(port) for port in up.ports())
    finally:
        up.close()
