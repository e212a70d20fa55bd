"""The Saku under test: its embedded stack and its `saku worker`, `saku api` and
`saku consume` processes, which the harness starts, kills and restarts itself."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time

import httpx

from core.settings import Settings
from saku.bench.report import start_saku
from saku.stack import manager
from saku.stack.components import EmbeddedComponent, embedded_components
from saku.stack.process import StackError, port_is_free

PROCESSES = ("worker", "api", "consume")


class SakuSystem:
    """One private Saku. A process the harness did not kill that exits is restarted by
    `supervise()` and reported: a fault must not silently take a process with it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.killed: set[str] = set()  # processes the harness killed and will restart
        self.exits: list[str] = []  # processes that exited on their own, since last read

    # --- the stack's components ----------------------------------------------------------

    def component(self, name: str) -> EmbeddedComponent:
        return next(c for c in embedded_components(self.settings) if c.name == name)

    def component_pid(self, name: str) -> int | None:
        return self.component(name).process.running_pid()

    async def up(self) -> None:
        await manager.up(self.settings)

    def down(self) -> None:
        manager.down(self.settings)

    async def kill_component(self, name: str) -> None:
        """`kill -9` of a server and of every process it forked (PostgreSQL's backends):
        what a crash leaves, not a shutdown."""
        component = self.component(name)
        pid = component.process.running_pid()
        if pid is None:
            raise StackError(f"{name} is not running: nothing to kill")
        os.killpg(pid, signal.SIGKILL)  # each server leads a process group of its own
        deadline = time.monotonic() + 30
        while component.process.running_pid() is not None or not all(
            port_is_free(port) for port in component.ports
        ):
            if time.monotonic() > deadline:
                raise StackError(f"{name} (pid {pid}) did not go away after SIGKILL")
            await asyncio.sleep(0.05)

    async def stop_component(self, name: str) -> None:
        """A clean stop (PostgreSQL: a fast shutdown, sessions rolled back)."""
        await asyncio.to_thread(self.component(name).stop)

    async def restart_components(self) -> None:
        """Start what is not running (as `saku stack up` does), and wait until it serves."""
        await manager.up(self.settings)

    # --- Saku's own processes ------------------------------------------------------------

    def start(self, name: str) -> None:
        self.processes[name] = start_saku(self.settings, name, log_name=name)
        self.killed.discard(name)

    def start_all(self) -> None:
        for name in PROCESSES:
            self.start(name)

    def kill(self, name: str) -> None:
        """`kill -9`; the process stays down until `start(name)`."""
        self.killed.add(name)
        process = self.processes[name]
        process.kill()
        process.wait(10)

    def supervise(self) -> None:
        """Restart a process that exited although the harness did not kill it."""
        for name, process in self.processes.items():
            if name in self.killed or process.poll() is None:
                continue
            self.exits.append(f"`saku {name}` exited by itself (status {process.returncode})")
            self.start(name)

    def take_exits(self) -> list[str]:
        exits, self.exits = self.exits, []
        return exits

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

    @property
    def api_url(self) -> str:
        return f"http://{self.settings.api_host}:{self.settings.api_port}"

    async def wait_api_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.api_url, timeout=5) as http:
            while time.monotonic() < deadline:
                try:
                    if (await http.get("/health/ready")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                self.supervise()
                await asyncio.sleep(0.2)
        raise StackError(
            f"the API did not report ready at {self.api_url} in {timeout:.0f}s: see "
            f"{self.settings.var_dir}/log/api.log"
        )
