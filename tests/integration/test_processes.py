"""The long-running processes: `saku up`, graceful shutdown, correlation ids across hops."""

from __future__ import annotations

import io
import json
import logging
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from core.logs import JsonFormatter
from core.security import Principal, Role, issue_token
from core.settings import Settings
from saku.stack import manager
from saku.stack.process import port_is_free
from tests.stackutil import private_settings, remove_var_dir

pytestmark = pytest.mark.integration


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything logged while the test runs, as Saku's JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)


@pytest.fixture
async def api_app(processes: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(processes)
    async with app.router.lifespan_context(app):
        yield app


async def test_correlation_id_follows_a_request_into_the_workflow_and_activity(
    api_app: FastAPI, processes: Settings, log_lines: io.StringIO
) -> None:
    token = issue_token(
        Principal("op", Role.OPERATOR, "t"),
        secret=processes.resolved_jwt_secret(),
        issuer=processes.jwt_issuer,
        ttl_seconds=60,
    )
    cid = f"req-{uuid.uuid4().hex[:10]}"
    transport = httpx.ASGITransport(app=api_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://saku.test") as client:
        response = await client.post(
            "/selfcheck",
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": cid},
            timeout=60,
        )
    assert response.status_code == 200, response.text
    assert response.json()["ok"] is True, response.json()
    assert response.headers["X-Request-ID"] == cid

    entries = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    with_cid = {e["msg"] for e in entries if e.get("correlation_id") == cid}
    # logged inside the workflow (Temporal's workflow logger appends the workflow's details)
    assert any(msg.startswith("self-check started") for msg in with_cid), with_cid
    assert "self-check recorded" in with_cid  # logged inside the activity


def test_saku_up_brings_everything_up_and_passes_its_self_check() -> None:
    settings = private_settings()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "saku", "up", "--check"],
            env=settings.as_environment(),
            capture_output=True,
            text=True,
            timeout=240,
        )
    finally:
        manager.down(settings)
        remove_var_dir(settings)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "self-check passed" in result.stdout
    assert "monitoring check passed" in result.stdout  # a payment reached a decision
    for name in ("postgres", "valkey", "temporal", "kafka"):
        assert f"{name}: started" in result.stdout
    assert "stopped: kafka, temporal, valkey, postgres" in result.stdout
    # everything it started is gone again
    for port in (settings.pg_port, settings.api_port, settings.kafka_port, settings.temporal_port):
        assert port_is_free(port), port


@pytest.mark.parametrize("command", ["worker", "consume", "api"])
def test_processes_stop_gracefully_on_sigterm(stack: Settings, command: str) -> None:
    settings = stack.model_copy(update={"api_port": private_settings().api_port})
    proc = subprocess.Popen(
        [sys.executable, "-m", "saku", command],
        env=settings.as_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        ready_marker = {
            "worker": "worker running",
            "consume": "consumer running",
            "api": "Application startup complete",
        }[command]
        deadline = time.monotonic() + 60
        seen = []
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            seen.append(line)
            if ready_marker in line or not line:
                break
        assert any(ready_marker in line for line in seen), "".join(seen)
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = "".join(seen) + rest
    if command == "api":
        # uvicorn shuts down gracefully, then re-raises the signal so the exit status says
        # "terminated by SIGTERM", as supervisors expect
        assert "Application shutdown complete" in output
        assert proc.returncode == -signal.SIGTERM, output
    else:
        assert proc.returncode == 0, output
    assert "Traceback" not in rest
