"""The faults, injected one at a time while the load runs, and how each is undone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as redis

from saku.chaos.load import Load
from saku.chaos.system import SakuSystem


class Target(Protocol):
    system: SakuSystem
    load: Load


Step = Callable[[Target], Awaitable[None]]


@dataclass(frozen=True)
class Fault:
    name: str
    what: str  # as the scorecard prints it
    inject: Step
    restore: Step
    kills_broker: bool = False  # the memory-only broker loses what it holds


def _kill_process(name: str) -> tuple[Step, Step]:
    async def inject(target: Target) -> None:
        target.system.kill(name)

    async def restore(target: Target) -> None:
        target.system.start(name)

    return inject, restore


def _kill_component(name: str) -> tuple[Step, Step]:
    async def inject(target: Target) -> None:
        await target.system.kill_component(name)

    async def restore(target: Target) -> None:
        await target.system.restart_components()

    return inject, restore


async def _nothing(target: Target) -> None:
    pass


async def _stop_postgres(target: Target) -> None:
    await target.system.stop_component("postgres")


async def _restart_components(target: Target) -> None:
    await target.system.restart_components()


async def _flush_valkey(target: Target) -> None:
    client = redis.from_url(target.system.settings.resolved_valkey_url())
    try:
        await client.flushall()
    finally:
        await client.aclose()


async def _cut_kiosks(target: Target) -> None:
    target.load.set_cut(True)


async def _reconnect_kiosks(target: Target) -> None:
    target.load.set_cut(False)


FAULTS = {
    fault.name: fault
    for fault in (
        Fault("none", "no fault (baseline)", _nothing, _nothing),
        Fault("kill-worker", "kill -9 saku worker", *_kill_process("worker")),
        Fault("kill-consumer", "kill -9 saku consume", *_kill_process("consume")),
        Fault("kill-api", "kill -9 saku api (+ in-process worker)", *_kill_process("api")),
        Fault("kill-postgres", "kill -9 PostgreSQL", *_kill_component("postgres")),
        Fault("restart-postgres", "PostgreSQL stop + start", _stop_postgres, _restart_components),
        Fault("kill-valkey", "kill -9 Valkey", *_kill_component("valkey")),
        Fault("flush-valkey", "Valkey FLUSHALL", _flush_valkey, _nothing),
        Fault("kill-temporal", "kill -9 Temporal server", *_kill_component("temporal")),
        Fault("cut-kiosks", "kiosks cut off the network", _cut_kiosks, _reconnect_kiosks),
        Fault(
            "kill-kafka",
            "kill -9 Kafka broker (memory-only)",
            *_kill_component("kafka"),
            kills_broker=True,
        ),
    )
}
# Issue 23's list, after a baseline; the broker's kill is asked for by name
DEFAULT_FAULTS = tuple(name for name in FAULTS if name != "kill-kafka")
# Every push: the processes, PostgreSQL's crash, Valkey's loss of everything, the kiosks' link
CI_FAULTS = (
    "kill-worker",
    "kill-consumer",
    "kill-api",
    "kill-postgres",
    "flush-valkey",
    "cut-kiosks",
)
