"""CPU time by process role over a stretch of a benchmark, from the operating system's own
accounting: where a transaction's cost goes, across the whole stack on this machine."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence

import psutil

# (role, what its command line contains), first match wins
ROLES: Sequence[tuple[str, str]] = (
    ("saku worker", "saku worker"),
    ("saku consume", "saku consume"),
    ("PostgreSQL", "postgres"),
    ("Temporal", "temporal"),
    ("Kafka (Tansu)", "tansu"),
    ("Valkey", "valkey"),
)


def _role(process: psutil.Process) -> str:
    if process.pid == os.getpid():
        return "load generator"  # the benchmark itself: producing, polling for decisions
    try:
        command = " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return "other"
    return next((role for role, marker in ROLES if marker in command), "other")


# Processes with a single thread, whose scheduler statistics are the whole process's
_SINGLE_THREADED = frozenset({"PostgreSQL"})


def _cpu_seconds(process: psutil.Process, role: str) -> float:
    """The process's CPU time so far (user + system). User and system times are counted in
    10 ms ticks: too coarse for PostgreSQL's backends, which work a few milliseconds at a
    time (a short run often showed none at all). Their thread's scheduler statistics keep
    it to the nanosecond (Linux; PostgreSQL runs a process, not a thread, per connection)."""
    if role in _SINGLE_THREADED:
        try:
            with open(f"/proc/{process.pid}/schedstat") as schedstat:
                return int(schedstat.read().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):  # not Linux, or no scheduler statistics
            pass
    times = process.cpu_times()
    return float(times.user + times.system)


def cpu_seconds() -> dict[int, tuple[str, float]]:
    """Every process's role and CPU seconds so far."""
    seen: dict[int, tuple[str, float]] = {}
    for process in psutil.process_iter():
        try:
            role = _role(process)
            seen[process.pid] = (role, _cpu_seconds(process, role))
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return seen


def cpu_by_role(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
) -> dict[str, float]:
    """CPU seconds spent between two snapshots, by role (processes started in between count
    from zero)."""
    spent: dict[str, float] = defaultdict(float)
    for pid, (role, seconds) in after.items():
        spent[role] += seconds - before.get(pid, (role, 0.0))[1]
    return spent
