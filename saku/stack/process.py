"""A background server process Saku started: its pid file, log file, start and stop.

The pid file records the pid, the process's start time and its executable, so a recycled
pid is never mistaken for ours and `down` never signals a process Saku did not start.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil


class StackError(RuntimeError):
    """A problem the user can fix; the message says how."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS says is free right now (for benchmarks' and tests' own processes)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _die_with_parent(sig: signal.Signals) -> Callable[[], None]:
    """A preexec hook: the child gets `sig` when the thread that forked it ends.

    Why this rather than a watchdog process: the kernel delivers it however the parent
    ends (kill -9 included), with no second process that could itself be killed, and it
    reaches servers running as another user (PostgreSQL's system user; the hook runs after
    Popen has switched user, which would otherwise clear it). The signal is tied to the
    forking *thread*, so such processes are started from the main thread only (checked in
    `ManagedProcess.start`). A preexec hook may deadlock if it needs a lock another thread
    held at the fork; this one only calls a C function resolved beforehand. Linux only, as
    is the rest of the embedded stack.
    """
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before the fork
    parent = os.getpid()

    def hook() -> None:
        if prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            os._exit(127)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(128 + int(sig))

    return hook


@dataclass
class ManagedProcess:
    name: str
    run_dir: Path
    log_dir: Path
    # the child this object started, kept so that its exit status can be read
    _popen: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def _read_pid_file(self) -> tuple[int, float, str | None] | None:
        try:
            data = json.loads(self.pid_file.read_text())
            return int(data["pid"]), float(data["started"]), data.get("exe")
        except (FileNotFoundError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def running_pid(self) -> int | None:
        """The pid if the process we started is alive (zombies count as dead)."""
        recorded = self._read_pid_file()
        if recorded is None:
            return None
        pid, started, exe = recorded
        try:
            proc = psutil.Process(pid)
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
            # The start time is worked out from the boot time, which moves when the machine
            # is suspended and resumed (seen: 5 s): then the executable says it is ours.
            # (Not the command line: it is empty for a moment after exec, and servers such
            # as Valkey rewrite it into a title.)
            if abs(proc.create_time() - started) > 1.0 and proc.exe() != exe:
                return None
        except psutil.Error:
            return None
        return pid

    def exit_status(self) -> int | None:
        """How the process this object started ended (a negative number: the signal that
        killed it), or None while it runs or if this object did not start it."""
        return None if self._popen is None else self._popen.poll()

    def has_stale_pid_file(self) -> bool:
        return self.pid_file.exists() and self.running_pid() is None

    def clear_pid_file(self) -> None:
        self.pid_file.unlink(missing_ok=True)

    def start(
        self,
        command: list[str],
        *,
        user: str | None = None,
        cwd: Path | None = None,
        die_with_parent: signal.Signals | None = None,
    ) -> int:
        """Start the process in a session of its own, logging to its log file. With
        `die_with_parent`, the kernel sends it that signal when this process ends, however
        it ends."""
        on_main_thread = threading.current_thread() is threading.main_thread()
        if die_with_parent is not None and not on_main_thread:
            raise RuntimeError("a process that dies with its parent is started by the main thread")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                user=user,
                # its own session: Ctrl-C in the terminal that ran `saku stack up` must not
                # reach the servers, which outlive that command until `saku stack down`
                start_new_session=True,
                preexec_fn=None if die_with_parent is None else _die_with_parent(die_with_parent),
            )
        self._popen = proc
        process = psutil.Process(proc.pid)
        self.pid_file.write_text(
            json.dumps({"pid": proc.pid, "started": process.create_time(), "exe": process.exe()})
        )
        return proc.pid

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 15.0) -> bool:
        """Stop the process if it is ours and alive; returns whether one was stopped."""
        pid = self.running_pid()
        if pid is None:
            self.clear_pid_file()
            return False
        os.kill(pid, sig)
        # Poll rather than psutil's wait: a server we did not fork is not our child, and
        # lingers as a zombie until whoever adopted it reaps it; running_pid() counts
        # zombies as gone.
        if not wait_until(lambda: self.running_pid() is None, timeout, interval=0.02):
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: self.running_pid() is None, 5, interval=0.02)
        self.clear_pid_file()
        return True

    def tail(self, lines: int = 40) -> str:
        if not self.log_file.exists():
            return ""
        with self.log_file.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            text = fh.read().decode(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
