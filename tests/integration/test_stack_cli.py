"""`saku stack …` as an operator uses it: a private stack driven through the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import psycopg
import pytest
import redis

from core.settings import Settings
from saku.stack import manager
from saku.stack.components import embedded_components
from tests.stackutil import private_settings, remove_var_dir

pytestmark = pytest.mark.integration
COMPONENTS = ("postgres", "valkey", "temporal", "kafka")


def saku(settings: Settings, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "saku", *args],
        env=settings.as_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def status_rows(output: str) -> dict[str, list[str]]:
    rows = {}
    for line in output.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if cells and cells[0] in COMPONENTS:
            rows[cells[0]] = cells
    return rows


# the output of the module's first `saku stack up`, on an empty database
first_up: list[subprocess.CompletedProcess[str]] = []


@pytest.fixture(scope="module")
def cli_stack() -> Iterator[Settings]:
    settings = private_settings()
    try:
        result = saku(settings, "stack", "up")
        assert result.returncode == 0, result.stdout + result.stderr
        first_up.append(result)
        yield settings
    finally:
        manager.down(settings)
        remove_var_dir(settings)


def test_status_lists_four_healthy_components_with_versions(cli_stack: Settings) -> None:
    result = saku(cli_stack, "stack", "status")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = status_rows(result.stdout)
    assert set(rows) == set(COMPONENTS)
    for name, cells in rows.items():
        assert cells[1] == "healthy", cells
        assert re.search(r"\d+\.\d+", cells[2]), f"{name} shows no version: {cells}"
        assert re.fullmatch(r"\d+", cells[4]), f"{name} shows no pid: {cells}"
    assert rows["postgres"][2].startswith("PostgreSQL 18")
    assert "memory-only" in rows["kafka"][2]
    assert "***" in rows["postgres"][3]  # the password is never printed


def test_the_first_up_names_each_migration_it_applies_once(cli_stack: Settings) -> None:
    from core.db import discover_migrations

    output = first_up[0].stdout + first_up[0].stderr
    for migration in discover_migrations():
        name = f"{migration.version:04d}_{migration.name}"
        assert f"migration applied: {name}" in first_up[0].stdout
        # once on the terminal, stdout and stderr together: no log line repeating it
        assert output.count(name) == 1, name
        assert output.count(f'"migration": {migration.version}') == 0, output


def test_up_is_idempotent(cli_stack: Settings) -> None:
    result = saku(cli_stack, "stack", "up")
    assert result.returncode == 0, result.stdout + result.stderr
    for name in COMPONENTS:
        assert f"{name}: already running" in result.stdout


@pytest.mark.parametrize("name", COMPONENTS)
def test_a_killed_component_shows_unhealthy_and_up_brings_it_back(
    cli_stack: Settings, name: str
) -> None:
    component = next(c for c in embedded_components(cli_stack) if c.name == name)
    pid = component.process.running_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):  # reap it if it happens to be our child
        os.waitpid(pid, 0)

    result = saku(cli_stack, "stack", "status")
    assert result.returncode == 1
    rows = status_rows(result.stdout)
    assert rows[name][1] == "UNHEALTHY"
    assert all(rows[other][1] == "healthy" for other in COMPONENTS if other != name)

    result = saku(cli_stack, "stack", "up")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{name}: stale pid file found" in result.stdout
    assert f"{name}: started" in result.stdout
    rows = status_rows(saku(cli_stack, "stack", "status").stdout)
    assert all(rows[c][1] == "healthy" for c in COMPONENTS), rows


def test_data_survives_down_and_up(cli_stack: Settings) -> None:
    with psycopg.connect(cli_stack.resolved_database_url(), autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS survival (v text)")
        conn.execute("INSERT INTO survival VALUES ('before down')")
    store = redis.from_url(cli_stack.resolved_valkey_url())
    store.set("survival", "before down")
    store.close()

    down = saku(cli_stack, "stack", "down")
    assert down.returncode == 0
    assert "postgres" in down.stdout
    assert status_rows(saku(cli_stack, "stack", "status").stdout)["postgres"][1] == "UNHEALTHY"
    assert saku(cli_stack, "stack", "up").returncode == 0

    with psycopg.connect(cli_stack.resolved_database_url()) as conn:
        assert conn.execute("SELECT v FROM survival").fetchall() == [("before down",)]
    store = redis.from_url(cli_stack.resolved_valkey_url())
    assert store.get("survival") == b"before down"
    store.close()


def test_a_taken_port_fails_fast_naming_the_port_and_setting() -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        settings = private_settings(valkey_port=port)
        try:
            result = saku(settings, "stack", "up", timeout=60)
        finally:
            manager.down(settings)
            remove_var_dir(settings)
    assert result.returncode == 2
    assert f"port {port}" in result.stderr
    assert "SAKU_VALKEY_PORT" in result.stderr
    assert "Traceback" not in result.stderr
    # nothing was left running: the port check happens before anything starts
    assert "started" not in result.stdout


def test_temporal_has_the_saku_namespace_and_search_attributes(cli_stack: Settings) -> None:
    from core.temporal.client import connect
    from core.temporal.search_attributes import cli_definitions

    async def registered() -> dict[str, int]:
        from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest

        client = await connect(cli_stack)
        response = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=cli_stack.temporal_namespace)
        )
        return dict(response.custom_attributes)

    names = asyncio.run(registered())
    assert set(cli_definitions()) <= set(names)
    # and the UI serves it (its HTTP API is what the UI pages read)
    import httpx

    ui = f"http://127.0.0.1:{cli_stack.temporal_ui_port}"
    response = httpx.get(f"{ui}/api/v1/namespaces/{cli_stack.temporal_namespace}", timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["namespaceInfo"]["name"] == cli_stack.temporal_namespace
