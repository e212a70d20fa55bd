"""Prometheus metrics for the API process, defined once."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from prometheus_client import Counter, Gauge, Histogram

from activities.dr.drills import LastDrill

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


def show_drill(last: LastDrill | None) -> None:
    """The last restore drill's figures on the gauges."""
    if last is None:
        for gauge in (DRILL_RPO, DRILL_RTO, DRILL_OK, DRILL_AT):
            gauge.set(float("nan"))  # no drill yet: absent, not "0 ms"
        return
    DRILL_RPO.set(float("nan") if last.rpo_ms is None else last.rpo_ms)
    DRILL_RTO.set(float("nan") if last.rto_s is None else last.rto_s)
    DRILL_OK.set(1.0 if last.ok else 0.0)
    DRILL_AT.set(last.finished_at.timestamp())
