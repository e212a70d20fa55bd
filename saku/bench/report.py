"""What every benchmark shares: percentiles, the machine's description, a plain-text
table, and `saku` processes started with the benchmark's settings."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Sequence

import psutil

from core.settings import Settings


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (fraction in [0, 1]); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def machine() -> str:
    memory = psutil.virtual_memory().total / 2**30
    return (
        f"{os.cpu_count()} cores, {memory:.0f} GiB, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def table(title: str, rows: Sequence[tuple[str, str]]) -> str:
    width = max(len(label) for label, _ in rows)
    lines = [title, "-" * len(title)]
    lines += [f"{label.ljust(width)}  {value}" for label, value in rows]
    return "\n".join(lines)


def start_saku(
    settings: Settings, command: str, log_name: str | None = None
) -> subprocess.Popen[bytes]:
    """`saku <command>` with these settings; its log is appended to
    var/log/<log_name>.log (bench-<command>.log unless named)."""
    log_dir = settings.var_dir / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"{log_name or f'bench-{command}'}.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "saku", command],
            env=settings.as_environment(),
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
