"""`saku stack up | down | status | logs`: the embedded stack as one unit."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from core.db import migrate
from core.health import ComponentHealth, check_all
from core.settings import Settings
from saku.stack.components import EmbeddedComponent, embedded_components
from saku.stack.process import StackError, port_is_free

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 30.0


@dataclass
class UpReport:
    started: list[str] = field(default_factory=list)
    already_running: list[str] = field(default_factory=list)
    stale_pid_files: list[str] = field(default_factory=list)
    migrations: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # the components this call started, with the processes it can watch
    started_components: list[EmbeddedComponent] = field(default_factory=list, repr=False)


@dataclass
class StatusRow:
    health: ComponentHealth
    embedded: bool
    pid: int | None
    note: str = ""


def _check_ports(component: EmbeddedComponent) -> None:
    for port, setting in component.ports.items():
        if not port_is_free(port):
            raise StackError(
                f"cannot start {component.name}: port {port} is already in use by another "
                f"program. Set {setting} to a free port, or set {component.url_setting} "
                f"to use an existing {component.name} server."
            )


async def _wait_ready(component: EmbeddedComponent) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    health = await component.ready()
    while not health.healthy:
        if component.process.running_pid() is None:
            raise StackError(
                f"{component.name} exited during start-up; its log "
                f"({component.process.log_file}) ends with:\n{component.process.tail(15)}"
            )
        if time.monotonic() > deadline:
            raise StackError(
                f"{component.name} did not become ready in {READY_TIMEOUT_S:.0f}s "
                f"({health.detail}); see {component.process.log_file}"
            )
        await asyncio.sleep(0.1)
        health = await component.ready()


async def up(settings: Settings, *, die_with_us: bool = False) -> UpReport:
    """Start what is not running, set it up, migrate the database. Idempotent.

    With `die_with_us`, what this call starts stops when this process ends (`saku up`);
    without, it outlives the command until `saku stack down` (`saku stack up`)."""
    began = time.perf_counter()
    report = UpReport()
    components = embedded_components(settings)
    to_start: list[EmbeddedComponent] = []
    for component in components:
        if component.process.running_pid() is not None:
            report.already_running.append(component.name)
            continue
        if component.process.has_stale_pid_file():
            report.stale_pid_files.append(component.name)
            component.process.clear_pid_file()
        _check_ports(component)
        to_start.append(component)
    # The slow part of each start is waiting for readiness, so all of them start at once.
    for component in to_start:
        component.start(die_with_parent=die_with_us)
        report.started.append(component.name)
        report.started_components.append(component)
    try:
        await asyncio.gather(*(_wait_ready(c) for c in components))
        await asyncio.gather(*(c.setup() for c in components))
        applied = await migrate(settings.resolved_database_url())
    except BaseException:
        # a half-started stack is worse than none: stop what this call started
        for component in to_start:
            component.stop()
        raise
    report.migrations = [f"{m.version:04d}_{m.name}" for m in applied]
    report.seconds = time.perf_counter() - began
    return report


async def restart(component: EmbeddedComponent) -> None:
    """Start a component of `up(die_with_us=True)` again after it died, and set it up (a
    restarted memory-only broker has lost its topics)."""
    component.start(die_with_parent=True)
    await _wait_ready(component)
    await component.setup()


def down(settings: Settings, only: list[str] | None = None) -> list[str]:
    """Stop the embedded components Saku started (or just those named); returns the names
    of those stopped."""
    chosen = [c for c in embedded_components(settings) if only is None or c.name in only]
    # independent servers: stop them all at once rather than one after another
    with ThreadPoolExecutor(max_workers=len(chosen) or 1) as pool:
        stopped = list(pool.map(lambda c: c.stop(), reversed(chosen)))
    return [c.name for c, done in zip(reversed(chosen), stopped, strict=True) if done]


async def status(settings: Settings) -> list[StatusRow]:
    embedded = {c.name: c for c in embedded_components(settings)}
    rows = []
    checked = await check_all(settings)
    # components check_all does not know of (the PostgreSQL standby)
    names = {health.name for health in checked}
    checked += [await c.check() for c in embedded.values() if c.name not in names]
    for health in checked:
        component = embedded.get(health.name)
        if component is None:
            note = "external"
            if health.name == "postgres" and not settings.database_url:
                # not managed: a former primary, fenced by a failover until it rejoins
                note = "fenced after a failover: `saku dr replica rejoin` makes it a standby"
            rows.append(StatusRow(health, embedded=False, pid=None, note=note))
            continue
        component.annotate(health)
        pid = component.process.running_pid()
        note = "not running" if pid is None else ""
        if component.process.has_stale_pid_file():
            note = "stale pid file: the process died; `saku stack up` restarts it"
        rows.append(StatusRow(health, embedded=True, pid=pid, note=note))
    return rows


def logs(settings: Settings, name: str | None, lines: int) -> dict[str, str]:
    chosen = [c for c in embedded_components(settings) if name in (None, c.name)]
    if name is not None and not chosen:
        known = ", ".join(c.name for c in embedded_components(settings))
        raise StackError(f"no embedded component named {name!r} (known: {known})")
    return {c.name: c.process.tail(lines) for c in chosen}
