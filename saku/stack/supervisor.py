"""Keep what `saku up` started running: restart a process that dies, with backoff, and give
up (so that everything stops) when one keeps crashing."""

from __future__ import annotations

import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from saku.stack.process import ManagedProcess


@dataclass
class Watched:
    """One supervised process: how to start it again, and what a restart loses."""

    process: ManagedProcess
    restart: Callable[[], None]  # start it again (and wait until it serves, for a server)
    loses: str = ""
    crashes: deque[float] = field(default_factory=deque)
    restarts: int = 0
    due: float | None = None  # when the pending restart is due

    @property
    def name(self) -> str:
        return self.process.name


def describe_exit(status: int) -> str:
    if status < 0:
        try:
            return f"was killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"was killed by signal {-status}"
    return f"exited with code {status}"


class Supervisor:
    """Restarts a watched process that died after 1 s, then 2 s, 4 s, ... (at most
    `max_delay`), counting its crashes within `window` seconds; at `crash_limit` of them
    it gives up: `run` returns the reason, and the caller stops everything."""

    def __init__(
        self,
        watched: list[Watched],
        *,
        say: Callable[[str], None] = print,
        first_delay: float = 1.0,
        max_delay: float = 30.0,
        crash_limit: int = 5,
        window: float = 120.0,
        poll_interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.watched = watched
        self.say = say
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.crash_limit = crash_limit
        self.window = window
        self.poll_interval = poll_interval
        self.clock = clock
        self.sleep = sleep

    def run(self, until: Callable[[], bool] | None = None) -> str | None:
        """Watch until one process crashes too often (returns why it gave up) or `until()`
        holds (returns None). A signal (KeyboardInterrupt) ends it too."""
        while until is None or not until():
            for watched in self.watched:
                reason = self.check(watched)
                if reason is not None:
                    return reason
            self.sleep(self.poll_interval)
        return None

    def check(self, watched: Watched) -> str | None:
        """Look at one process once: restart it if due, count its crash if it died."""
        now = self.clock()
        if watched.due is not None:
            if now >= watched.due:
                self._restart(watched)
            return None
        status = watched.process.exit_status()
        if status is None:
            return None
        watched.crashes.append(now)
        while watched.crashes[0] < now - self.window:
            watched.crashes.popleft()
        log = watched.process.log_file
        if len(watched.crashes) >= self.crash_limit:
            reason = (
                f"{watched.name} {describe_exit(status)}: it crashed {len(watched.crashes)} "
                f"times within {self.window:g} s, so Saku stops everything; see its log, {log}"
            )
            self.say(reason)
            return reason
        delay = min(self.first_delay * 2 ** (len(watched.crashes) - 1), self.max_delay)
        watched.due = now + delay
        loses = f"; {watched.loses}" if watched.loses else ""
        self.say(
            f"{watched.name} {describe_exit(status)}: restarting it in {delay:g} s "
            f"(restart {watched.restarts + 1}{loses}); its log: {log}"
        )
        return None

    def _restart(self, watched: Watched) -> None:
        watched.due = None
        watched.restarts += 1
        try:
            watched.restart()
        except Exception as err:
            # counted as the next crash once it has stopped
            self.say(f"{watched.name} did not come back: {err}")
            watched.process.stop()
            return
        self.say(f"{watched.name} restarted (pid {watched.process.running_pid()})")
