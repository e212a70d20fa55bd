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


def cpu_seconds() -> dict[int, tuple[str, float]]:
    """Every process's role and CPU seconds so far (user + system)."""
    seen: dict[int, tuple[str, float]] = {}
    for process in psutil.process_iter():
        try:
            times = process.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        seen[process.pid] = (_role(process), times.user + times.system)
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
