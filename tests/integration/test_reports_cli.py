"""`saku reports docs` and `saku reports build` as an analyst runs them, on the session's
stack: the documentation is served until Ctrl-C, and a build with no worker to run it says
what to start instead of failing with a traceback."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from core.settings import Settings
from tests.stackutil import free_port

pytestmark = pytest.mark.integration


def test_reports_docs_serves_the_dbt_documentation_until_ctrl_c(stack: Settings) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "saku", "reports", "docs", "--port", str(port)],
        env=stack.as_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        served = None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                served = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        assert proc.poll() is None, proc.communicate()[0]  # still serving, did not crash
        assert served is not None and served.status_code == 200
        assert "dbt" in served.text
        catalog = httpx.get(f"http://127.0.0.1:{port}/catalog.json", timeout=5)
        assert catalog.status_code == 200 and "nodes" in catalog.json()
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert f"dbt documentation on http://127.0.0.1:{port}" in output
    assert "OverflowError" not in output and "Traceback" not in output, output
    assert proc.returncode == 130
    with pytest.raises(httpx.ConnectError):  # Ctrl-C stopped dbt's server too
        httpx.get(f"http://127.0.0.1:{port}/", timeout=2)


def test_reports_build_without_a_worker_says_what_to_start(stack: Settings) -> None:
    # a task queue no worker polls: as if the stack were up and `saku worker` was not
    settings = stack.model_copy(update={"task_queue": f"idle-{uuid.uuid4().hex[:8]}"})
    result = subprocess.run(
        [sys.executable, "-m", "saku", "reports", "build"],
        env=settings.as_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "RPCError" not in result.stderr, result.stderr
    message = result.stdout + result.stderr
    assert settings.task_queue in message
    assert "saku worker" in message and "saku up" in message
