"""Prometheus metrics for the API process, defined once."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from prometheus_client import Counter, Gauge, Histogram

from core.db import Pool

REQUESTS = Counter(
    "saku_http_requests_total", "HTTP requests handled", ["method", "route", "status"]
)
LATENCY = Histogram(
    "saku_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.035, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


def _route_template(request: Request) -> str:
    # the template (/tenants/{tenant_id}/users), not the path: keeps label cardinality bounded;
    # the router records the matched route in the scope
    return str(getattr(request.scope.get("route"), "path", "unmatched"))


async def observe(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    started = time.perf_counter()
    response = await call_next(request)
    route = _route_template(request)
    LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
    REQUESTS.labels(request.method, route, str(response.status_code)).inc()
    return response


# The newest restore drill (dr_drills), read at each scrape: drills run in a worker, and
# any API process answers the scrape.
DRILL_RPO = Gauge("saku_dr_last_drill_rpo_ms", "RPO measured by the last restore drill (ms)")
DRILL_RTO = Gauge("saku_dr_last_drill_rto_seconds", "RTO measured by the last restore drill (s)")
DRILL_OK = Gauge("saku_dr_last_drill_ok", "1 if every check of the last restore drill passed")
DRILL_AT = Gauge(
    "saku_dr_last_drill_timestamp_seconds", "When the last restore drill finished (Unix time)"
)


async def refresh_drill_gauges(pool: Pool) -> None:
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "SELECT rpo_ms, rto_s, ok, finished_at FROM dr_drills "
                "ORDER BY finished_at DESC LIMIT 1"
            )
        ).fetchone()
    if row is None:
        for gauge in (DRILL_RPO, DRILL_RTO, DRILL_OK, DRILL_AT):
            gauge.set(float("nan"))  # no drill yet: absent, not "0 ms"
        return
    DRILL_RPO.set(float("nan") if row["rpo_ms"] is None else float(row["rpo_ms"]))
    DRILL_RTO.set(float("nan") if row["rto_s"] is None else float(row["rto_s"]))
    DRILL_OK.set(1.0 if row["ok"] else 0.0)
    DRILL_AT.set(row["finished_at"].timestamp())
