"""`saku bench stream` on the real stack, small: every payment is decided, the table carries
its figures, and the run leaves no data behind."""

from __future__ import annotations

import re

import pytest

from core.db import Pool
from core.settings import Settings
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
