"""The benchmarks on the real stack, small: `saku bench stream` decides every payment, its
table carries its figures, and the run leaves no data behind; `saku bench kiosk` reports
what a payment costs beside its latency (CPU by process, history events, SQL statements)."""

from __future__ import annotations

import re

import pytest

from core.db import Pool
from core.settings import Settings
from saku.bench.kiosk import KioskOptions, run_kiosk_bench
from saku.bench.stream import StreamOptions, run_stream_bench

pytestmark = pytest.mark.integration


async def test_a_small_stream_bench_decides_every_payment_and_cleans_up(
    stack: Settings, pool: Pool
) -> None:
    options = StreamOptions(payments=30, accounts=20, history=20, baseline_workflows=10)

    report = await run_stream_bench(stack, options)

    assert re.search(r"decisions committed\s+30 of 30", report), report
    latency = re.search(r"p50 (\d+), p95 (\d+), p99 (\d+), max (\d+) ms", report)
    assert latency is not None, report
    p50, p95, p99, worst = map(int, latency.groups())
    assert 0 < p50 <= p95 <= p99 <= worst
    # the latency split at the history insert: each stage is part of the whole
    for stage in ("produced -> stored", "stored -> committed"):
        part = re.search(
            rf"{stage}\s+p50 (-?\d+), p95 (-?\d+), p99 (-?\d+), max (-?\d+) ms", report
        )
        assert part is not None, report
        part_p50, _, _, part_max = map(int, part.groups())
        assert 0 <= part_p50 <= part_max <= worst, report
    cpu = re.search(r"CPU per transaction\s+([\d.]+) ms in all: (.*) ms", report)
    assert cpu is not None, report
    assert float(cpu.group(1)) > 0
    assert "saku worker" in cpu.group(2) and "PostgreSQL" in cpu.group(2)
    assert re.search(r"baseline: no-op workflows\s+[\d,]+ workflows/s", report), report
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT (SELECT count(*) FROM tenants WHERE id LIKE 'bench-%%') AS tenants,"
            " (SELECT count(*) FROM raw_messages WHERE tenant_id LIKE 'bench-%%') AS messages,"
            " (SELECT count(*) FROM evaluations WHERE tenant_id LIKE 'bench-%%') AS evaluations"
        )
        assert await cur.fetchone() == {"tenants": 0, "messages": 0, "evaluations": 0}


def _number(pattern: str, report: str) -> float:
    found = re.search(pattern, report, re.MULTILINE)
    assert found is not None, f"{pattern!r} not in\n{report}"
    return float(found.group(1))


async def test_a_small_kiosk_bench_reports_cpu_history_events_and_sql_per_payment(
    stack: Settings,
) -> None:
    options = KioskOptions(payments=20, rate=10, students=5, kiosks=2, warm_up=5)

    report = await run_kiosk_bench(stack, options)

    assert re.search(r"decided\s+[\d.]+ payments/s \(20 of 20\)", report), report
    latency = re.search(
        r"latency request -> decision\s+p50 ([\d.]+), p95 ([\d.]+), p99 ([\d.]+), "
        r"max ([\d.]+) ms",
        report,
    )
    assert latency is not None, report
    p50, p95, p99, worst = map(float, latency.groups())
    assert 0 < p50 <= p95 <= p99 <= worst
    assert _number(r"payment / no-op\s+p50 ([\d.]+)x, p99 [\d.]+x", report) > 0
    assert _number(r"payment / no-op\s+p50 [\d.]+x, p99 ([\d.]+)x", report) > 0

    # CPU per payment, in all and by process, each beside the no-op baseline's
    total = _number(r"^CPU per payment\s+([\d.]+) ms in all", report)
    noop = _number(r"^CPU per payment\s+[\d.]+ ms in all \(no-op workflow ([\d.]+) ms", report)
    assert 0 < total < 10_000 and noop > 0, report
    by_role = {
        role: _number(rf"^  {role}\s+([\d.]+) ms", report)
        for role in ("saku api", "Temporal", "PostgreSQL", "Valkey", "load generator")
    }
    for role in ("saku api", "Temporal", "PostgreSQL"):
        assert by_role[role] > 0, report  # every payment passes through each
    assert sum(by_role.values()) <= total + 0.05, report  # rounded to 0.01 ms each
    assert re.search(r"^  worker\s+in the saku api process", report, re.MULTILINE), report
    temporal = r"^  Temporal\s+[\d.]+ ms \(no-op workflow ([\d.]+) ms: [\d.]+x\)"
    assert _number(temporal, report) > 0, report

    # Temporal history events: the payments' workflows have some; so does a no-op one
    events = _number(r"^history events per payment\s+([\d.]+)", report)
    noop_events = _number(r"^history events per payment\s+[\d.]+ \(no-op workflow ([\d.]+)", report)
    assert noop_events >= 3 and 3 <= events < 1000, report
    assert re.search(r"(\d+) of \1 histories read", report), report  # a small run: all

    # SQL statements, counted by PostgreSQL: a payment posts, so it runs some
    statements = _number(r"^SQL per payment\s+([\d.]+) statements", report)
    queries = _number(r"^SQL per payment\s+[\d.]+ statements: ([\d.]+) queries", report)
    control = _number(r"queries and ([\d.]+) transaction control", report)
    assert 1 <= queries <= statements < 1000, report
    assert abs(queries + control - statements) <= 0.15, report
    assert _number(r"\(([\d.]+) BEGIN\)", report) >= 1, report  # the posting is a transaction
