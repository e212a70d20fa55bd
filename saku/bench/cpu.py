"""CPU time by process role over a stretch of a benchmark, from the operating system's own
accounting: where a transaction's cost goes, across the whole stack on this machine."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Sequence

import psutil

from core.settings import Settings
from saku.stack.components import embedded_components

# (role, what its command line contains), first match wins
ROLES: Sequence[tuple[str, str]] = (
    ("saku api", "saku api"),
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


# Processes whose main thread's scheduler statistics are the whole process's work:
# PostgreSQL's have a single thread, and Valkey serves every command on its main thread
_SINGLE_THREADED = frozenset({"PostgreSQL", "Valkey"})


def _cpu_seconds(process: psutil.Process, role: str) -> float:
    """The process's CPU time so far (user + system). User and system times are counted in
    10 ms ticks: too coarse for PostgreSQL's backends and Valkey, which work a few
    milliseconds or less at a time (a short run often showed none at all). Their main
    thread's scheduler statistics keep it to the nanosecond (Linux; PostgreSQL runs a
    process, not a thread, per connection)."""
    if role in _SINGLE_THREADED:
        try:
            with open(f"/proc/{process.pid}/schedstat") as schedstat:
                return int(schedstat.read().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):  # not Linux, or no scheduler statistics
            pass
    times = process.cpu_times()
    return float(times.user + times.system)


def ours(settings: Settings) -> list[int]:
    """The processes a benchmark measures: this one (and what it starts) and the embedded
    stack's servers. Their descendants count too (PostgreSQL's backends); other stacks on
    a shared machine do not."""
    roots = [os.getpid()]
    for component in embedded_components(settings):
        pid = component.process.running_pid()
        if pid is not None:
            roots.append(pid)
    return roots


def _processes(roots: Iterable[int] | None) -> Iterable[psutil.Process]:
    if roots is None:
        yield from psutil.process_iter()
        return
    seen: set[int] = set()
    for pid in roots:
        try:
            root = psutil.Process(pid)
            tree = [root, *root.children(recursive=True)]
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        for process in tree:
            if process.pid not in seen:
                seen.add(process.pid)
                yield process


def cpu_seconds(roots: Iterable[int] | None = None) -> dict[int, tuple[str, float]]:
    """The role and CPU seconds so far of every process, or of the process trees under
    `roots`."""
    seen: dict[int, tuple[str, float]] = {}
    for process in _processes(roots):
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
