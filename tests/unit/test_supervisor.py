"""The supervisor's timing: backoff that doubles up to a cap, crashes counted in a window."""

from __future__ import annotations

from pathlib import Path

from saku.stack.supervisor import Supervisor, Watched


class FakeProcess:
    """A process that is dead whenever the test says so."""

    def __init__(self) -> None:
        self.name = "worker"
        self.log_file = Path("/var/log/worker.log")
        self.status: int | None = None
        self.pid = 100

    def exit_status(self) -> int | None:
        return self.status

    def running_pid(self) -> int | None:
        return None if self.status is not None else self.pid

    def stop(self) -> bool:
        return False

    def start(self) -> None:
        self.status = None
        self.pid += 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def supervised(**options: float) -> tuple[Supervisor, FakeProcess, Clock, list[str]]:
    process = FakeProcess()
    clock = Clock()
    said: list[str] = []
    watched = Watched(process, process.start)  # type: ignore[arg-type]
    return Supervisor([watched], say=said.append, clock=clock, **options), process, clock, said  # type: ignore[arg-type]


def test_the_delay_doubles_up_to_the_cap_and_a_quiet_window_resets_it() -> None:
    supervisor, process, clock, said = supervised(crash_limit=100, max_delay=8.0)
    delays = []
    for _ in range(6):
        process.status = 1
        started = clock.now
        supervisor.check(supervisor.watched[0])
        due = supervisor.watched[0].due
        assert due is not None
        delays.append(due - started)
        clock.now = due
        supervisor.check(supervisor.watched[0])
    assert delays == [1, 2, 4, 8, 8, 8]
    assert said[0] == (
        "worker exited with code 1: restarting it in 1 s (restart 1); its log: /var/log/worker.log"
    )
    assert said[1] == "worker restarted (pid 101)"
    clock.now += 121  # two quiet minutes: the next crash starts over
    process.status = -9
    supervisor.check(supervisor.watched[0])
    assert supervisor.watched[0].due == clock.now + 1
    assert said[-1].startswith("worker was killed by SIGKILL: restarting it in 1 s (restart 7)")


def test_five_crashes_within_the_window_give_up_naming_the_process_and_its_log() -> None:
    supervisor, process, clock, said = supervised()
    for _ in range(4):
        process.status = -9
        supervisor.check(supervisor.watched[0])
        clock.now = supervisor.watched[0].due or 0
        supervisor.check(supervisor.watched[0])
    process.status = -9
    reason = supervisor.check(supervisor.watched[0])
    assert reason == (
        "worker was killed by SIGKILL: it crashed 5 times within 120 s, so Saku stops "
        "everything; see its log, /var/log/worker.log"
    )
    assert said[-1] == reason


def test_crashes_spread_wider_than_the_window_never_give_up() -> None:
    supervisor, process, clock, _ = supervised()
    for _ in range(10):
        process.status = 1
        assert supervisor.check(supervisor.watched[0]) is None
        clock.now = supervisor.watched[0].due or 0
        supervisor.check(supervisor.watched[0])
        clock.now += 40  # three crashes per two minutes at most
    assert supervisor.watched[0].restarts == 10


def test_a_restart_that_fails_is_said_and_counted_as_the_next_crash() -> None:
    supervisor, process, clock, said = supervised()

    def fails() -> None:
        raise RuntimeError("port 61001 is taken")

    supervisor.watched[0].restart = fails
    process.status = 1
    supervisor.check(supervisor.watched[0])
    clock.now += 1
    supervisor.check(supervisor.watched[0])
    assert said[-1] == "worker did not come back: port 61001 is taken"
    supervisor.check(supervisor.watched[0])
    assert said[-1].startswith("worker exited with code 1: restarting it in 2 s (restart 2)")
