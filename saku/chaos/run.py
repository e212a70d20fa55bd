"""One scorecard run: a private Saku, its load, each fault in turn, the count after each.

Per fault: the load runs a few seconds, the fault strikes, the load goes on through it,
what was broken is restarted, the load goes on a few seconds more and stops; then the
clients' last answers are awaited (Kafka acknowledgements, HTTP retries, kiosk journals
replayed), and every acknowledged operation of that fault gets a bounded wait to show its
effect in PostgreSQL before it is counted as lost.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from activities.accounts import create_tenant
from activities.monitoring.config_store import ConfigStore, import_bundle
from activities.monitoring.defaults import default_bundle
from core.db import Pool, create_pool
from core.settings import Settings
from core.temporal.client import connect
from saku.bench.kiosk import KioskOptions, set_up_school
from saku.bench.report import machine
from saku.chaos.faults import DEFAULT_FAULTS, FAULTS, Fault
from saku.chaos.load import Load, Rates
from saku.chaos.score import Effect, Row, effects, ledger_check, score
from saku.chaos.system import SakuSystem
from saku.chaos.tally import KINDS, STREAM, Operation, Tally
from saku.stack.private import private_settings, remove_var_dir

# workflows that carry an operation to its effect (cases wait for an operator: not these)
EFFECT_WORKFLOWS = ("KioskPayment", "TopUp", "OfflineSync", "EvaluateTransaction", "EvaluateBatch")


@dataclass(frozen=True)
class ChaosOptions:
    faults: tuple[str, ...] = DEFAULT_FAULTS
    before_s: float = 4.0  # load before the fault
    down_s: float = 5.0  # how long the fault lasts before the harness restores
    after_s: float = 4.0  # load after the restore
    drain_s: float = 120.0  # the bounded wait for acknowledged operations' effects
    students: int = 100
    kiosks: int = 4  # the last one with a poor link
    rates: Rates = field(default_factory=Rates)
    first_port: int | None = None  # the stack's ports: free ones from here up (else any)
    keep: bool = False  # leave the var dir (logs, data) behind


@dataclass
class Scorecard:
    rows: list[Row]
    options: ChaosOptions
    var_dir: str

    @property
    def failed(self) -> bool:
        return any(row.failed for row in self.rows)

    def render(self) -> str:
        return render(self)


class Harness:
    """What the faults act on (`saku.chaos.faults.Target`)."""

    def __init__(self, system: SakuSystem, load: Load) -> None:
        self.system = system
        self.load = load


async def run_chaos(options: ChaosOptions, say: Callable[[str], None] = print) -> Scorecard:
    unknown = [name for name in options.faults if name not in FAULTS]
    if unknown:
        raise ValueError(f"unknown faults: {', '.join(unknown)} (known: {', '.join(FAULTS)})")
    settings = private_settings(
        "saku-chaos-", options.first_port, log_level="WARNING", task_queue="chaos"
    )
    system = SakuSystem(settings)
    say(f"starting a private Saku under {settings.var_dir}")
    try:
        await system.up()
        system.start_all()
        await system.wait_api_ready()
        rows = await _run(system, settings, options, say)
    finally:
        say("stopping the private Saku")
        system.stop_all()
        system.down()
        if not options.keep:
            remove_var_dir(settings)
    return Scorecard(rows, options, str(settings.var_dir))


async def _run(
    system: SakuSystem, settings: Settings, options: ChaosOptions, say: Callable[[str], None]
) -> list[Row]:
    tenant = f"chaos-{uuid.uuid4().hex[:8]}"
    async with create_pool(settings.resolved_database_url(), max_size=2) as pool:
        async with pool.connection() as conn:
            await create_tenant(conn, tenant, "Chaos school foundation")
        await import_bundle(ConfigStore(pool), tenant, default_bundle())
        say(f"setting up a school: {options.students} students, {options.kiosks} kiosks")
        kiosks, students = await set_up_school(
            pool, tenant, KioskOptions(students=options.students, kiosks=options.kiosks)
        )
    tally = Tally()
    load = Load(settings, tally, tenant, kiosks, students, options.rates)
    harness = Harness(system, load)
    supervisor = asyncio.create_task(_supervise(system))
    try:
        await load.open()
        rows = []
        for name in options.faults:
            rows.append(await _phase(harness, tally, tenant, FAULTS[name], options, say))
            say(_row_line(rows[-1]))
        return rows
    finally:
        supervisor.cancel()
        await load.close()


async def _supervise(system: SakuSystem) -> None:
    while True:
        system.supervise()
        await asyncio.sleep(0.5)


async def _phase(
    harness: Harness,
    tally: Tally,
    tenant: str,
    fault: Fault,
    options: ChaosOptions,
    say: Callable[[str], None],
) -> Row:
    system, load, settings = harness.system, harness.load, harness.system.settings
    await system.wait_api_ready()
    system.take_exits()
    tally.phase = fault.what
    broker = system.component_pid("kafka")
    say(f"{fault.what}: load for {options.before_s:g} s")
    stop = asyncio.Event()
    loops = load.run(stop)
    await asyncio.sleep(options.before_s)
    began = time.monotonic()
    await fault.inject(harness)
    await asyncio.sleep(max(0.0, options.down_s - (time.monotonic() - began)))
    await fault.restore(harness)
    say(
        f"{fault.what}: over after {time.monotonic() - began:.1f} s (what it broke is "
        f"restarted); load for {options.after_s:g} s more"
    )
    await asyncio.sleep(options.after_s)
    stop.set()
    await asyncio.gather(*loops)
    stopped = time.monotonic()
    await load.settle(timeout=options.drain_s / 2)
    ops = tally.of_phase(fault.what)
    deadline = time.monotonic() + options.drain_s
    async with create_pool(settings.resolved_database_url(), max_size=2) as pool:
        found = await _drain(pool, tenant, ops, deadline)
        await _quiesce(settings, deadline)
        found = await effects(pool, tenant, ops)
        ledger = await ledger_check(pool, tenant)
    say(f"{fault.what}: answers and effects awaited for {time.monotonic() - stopped:.1f} s")
    broker_restarted = fault.kills_broker or system.component_pid("kafka") != broker
    row = score(fault.what, ops, found, broker_restarted)
    if ledger:
        row.ledger = "FAILED"
        row.problems += ledger
    row.notes += system.take_exits()
    refusals = Counter(tally.refusals.get(fault.what, []))
    row.notes += [f"{what} (x{n})" if n > 1 else what for what, n in refusals.most_common(5)]
    errors = tally.server_errors.get(fault.what)
    if errors:
        row.notes.append(
            "answered "
            + ", ".join(f"HTTP {status} x{n}" for status, n in sorted(errors.items()))
            + " (the client asked again, or the kiosk sold offline)"
        )
    return row


def _settled(op: Operation, effect: Effect) -> bool:
    if op.kind == STREAM:
        return effect.decisions >= 1
    return effect.complete or effect.duplicated


async def _drain(
    pool: Pool, tenant: str, ops: list[Operation], deadline: float
) -> dict[int, Effect]:
    """Wait until every acknowledged operation shows its effect, or the deadline passes."""
    while True:
        found = await effects(pool, tenant, ops)
        waiting = [op for op in ops if op.acked and not _settled(op, found[id(op)])]
        if not waiting or time.monotonic() > deadline:
            return found
        await asyncio.sleep(1)


async def _quiesce(settings: Settings, deadline: float) -> None:
    """Wait until no workflow is still carrying an operation (unacknowledged ones too), so
    the ledger is read while nothing posts."""
    client = await connect(settings)
    types = ", ".join(f"'{t}'" for t in EFFECT_WORKFLOWS)
    query = f"ExecutionStatus = 'Running' AND WorkflowType IN ({types})"
    while time.monotonic() < deadline:
        if not [w async for w in client.list_workflows(query, limit=1)]:
            return
        await asyncio.sleep(1)


def _row_line(row: Row) -> str:
    verdict = "FAILED" if row.failed else "ok"
    return (
        f"  {row.fault}: sent {row.sent}, acknowledged {row.acked}, once {row.once}, "
        f"lost {row.lost}, duplicated {row.duplicated}, ledger {row.ledger} -> {verdict}"
    )


def render(card: Scorecard) -> str:
    headers = ("fault", "sent", "acked", "once", "lost", "dup", "broker lost*", "ledger", "notes")
    notes: list[str] = []
    table = []
    for row in card.rows:
        marks = []
        for note in row.notes:
            notes.append(note)
            marks.append(f"[{len(notes)}]")
        table.append(
            (
                row.fault,
                str(row.sent),
                str(row.acked),
                str(row.once),
                str(row.lost),
                str(row.duplicated),
                str(row.broker_lost),
                row.ledger,
                " ".join(marks),
            )
        )
    lines = ["saku chaos: fault scorecard", ""]
    lines += _grid(headers, table)
    lines += [
        "",
        "sent: operations the load sent during the fault; acked: acknowledged (HTTP 2xx, or",
        "every Kafka record acknowledged by the broker); once: acknowledged and done exactly",
        "once (evaluated, decided, posted to the ledger once); lost: acknowledged, never done",
        f"within {card.options.drain_s:g} s after the load stopped; dup: done more than once;",
        "ledger: Ledger.verify, and every wallet equal to its seeded money + credited top-ups -",
        "approved purchases.",
        "* lost by the embedded Kafka broker, not by Saku: it keeps messages in memory only,",
        "  so a broker restart loses those not yet consumed (a production Kafka keeps them).",
        "  Counted only when the broker restarted during that fault; not counted as Saku's.",
    ]
    kinds = [k for k in KINDS if any(k in row.by_kind for row in card.rows)]
    lines += ["", "acknowledged / once, by operation:", ""]
    lines += _grid(
        ("fault", *kinds),
        [(row.fault, *(_pair(row.by_kind.get(k)) for k in kinds)) for row in card.rows],
    )
    if notes:
        lines += [""] + [f"[{n}] {note}" for n, note in enumerate(notes, 1)]
    problems = [f"  {row.fault}: {p}" for row in card.rows for p in row.problems[:20]]
    if problems:
        lines += ["", "problems:", *problems]
    o, r = card.options, card.options.rates
    lines += [
        "",
        f"machine: {machine()}",
        f"each fault: {o.before_s:g} s of load, the fault for {o.down_s:g} s (restarted by "
        f"the harness), {o.after_s:g} s more load; rates: stream {r.stream:g} payments/s "
        f"(4 records each), top-ups {r.topups_kafka:g}/s on Kafka and {r.topups_http:g}/s over "
        f"HTTP, {o.kiosks - 1} kiosks at {r.kiosk:g} payments/s each and one with a poor link "
        f"selling offline at {r.offline:g}/s, replaying its journal every few seconds",
        "verdict: "
        + (
            "FAILED: acknowledged operations lost or duplicated, or the ledger does not hold"
            if card.failed
            else "every acknowledged operation done exactly once; the ledger holds"
        ),
    ]
    return "\n".join(lines)


def _pair(counts: tuple[int, int] | None) -> str:
    return "-" if counts is None else f"{counts[0]}/{counts[1]}"


def _grid(headers: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.ljust(w) if i in (0, len(cells) - 1) else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(headers), line(tuple("-" * w for w in widths))] + [line(r) for r in rows]
