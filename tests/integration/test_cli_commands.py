"""The `saku` commands no other test module runs, run as a user runs them (`python -m saku
…`), each small: `config defaults`, `stack logs`, `db migrate`, `keys rotate`, `kiosk`,
`bench stream` and `bench kiosk`. tests/unit/test_cli_coverage.py keeps the list of which
test runs each command."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import httpx
import psycopg
import pytest
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter

from activities.accounts import create_tenant
from activities.biometrics.keyring import KeyRing
from activities.biometrics.vault import TemplateVault
from activities.wallet.directory import Directory
from core.db import create_pool, discover_migrations, migrate
from core.settings import Settings
from core.temporal.codec import EncryptionCodec
from core.temporal.payload_keys import PayloadKeys
from tests.stackutil import free_port

pytestmark = pytest.mark.integration
DEFAULTS_FILE = Path(__file__).resolve().parents[2] / "infra" / "config" / "default.json"


def saku(settings: Settings, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "saku", *args],
        env=settings.as_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
async def empty_database(stack: Settings, tmp_path: Path) -> AsyncIterator[Settings]:
    """Settings whose database is a new, empty one on the session's PostgreSQL, and whose
    key-encryption key file is the test's own."""
    name = f"cli_{uuid.uuid4().hex[:10]}"
    password = stack.embedded_secret("postgres-superuser.password")
    superuser = f"postgresql://postgres:{password}@127.0.0.1:{stack.pg_port}/postgres"
    async with await psycopg.AsyncConnection.connect(superuser, autocommit=True) as conn:
        await conn.execute(f"CREATE DATABASE {name} OWNER saku")
    base = stack.resolved_database_url()
    url = urlunparse(urlparse(base)._replace(path=f"/{name}"))
    yield stack.model_copy(
        update={"database_url": url, "biometric_kek_file": tmp_path / "kek.json"}
    )
    async with await psycopg.AsyncConnection.connect(superuser, autocommit=True) as conn:
        await conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_config_defaults_prints_the_shipped_bundle() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "saku", "config", "defaults"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads(DEFAULTS_FILE.read_text())


def test_stack_logs_shows_the_tail_of_a_component_s_log(stack: Settings) -> None:
    result = saku(stack, "stack", "logs", "postgres", "-n", "5")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("==> postgres <==")
    assert 0 < len(result.stdout.strip().splitlines()) <= 6  # the header and 5 lines
    wrong = saku(stack, "stack", "logs", "mysql")
    assert wrong.returncode == 2
    assert "no embedded component named 'mysql'" in wrong.stderr
    assert "postgres, valkey, temporal, kafka" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_db_migrate_applies_each_migration_once_then_nothing(empty_database: Settings) -> None:
    first = saku(empty_database, "db", "migrate")
    assert first.returncode == 0, first.stderr
    names = [f"{m.version:04d}_{m.name}" for m in discover_migrations()]
    assert first.stdout.strip() == "applied: " + ", ".join(names)
    assert not any(name in first.stderr for name in names)  # said once, not logged again
    again = saku(empty_database, "db", "migrate")
    assert again.returncode == 0 and again.stdout.strip() == "applied: nothing (up to date)"


async def test_keys_rotate_rewraps_every_data_key_and_templates_still_open(
    empty_database: Settings,
) -> None:
    settings = empty_database
    await migrate(settings.resolved_database_url())
    template = os.urandom(512)
    async with create_pool(settings.resolved_database_url(), max_size=2) as pool:
        async with pool.connection() as conn:
            await create_tenant(conn, "t1", "Keys test")
        directory = Directory(pool)
        await directory.create_school("t1", "sd", "SD")
        await directory.create_student("t1", "sd", "student-1", "Siti")
        await TemplateVault(pool, KeyRing.load(settings.resolved_kek_file())).seal(
            "t1", "student-1", 1, template
        )
        result = saku(settings, "keys", "rotate")
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == [
            "key-encryption key v2 is current; 1 data key(s) re-wrapped",
            "dropped old key-encryption key version(s): 1",
        ]
        ring = KeyRing.load(settings.resolved_kek_file(), create=False)
        assert ring.versions == [2]
        assert await TemplateVault(pool, ring).open("t1", "student-1", 1) == template


def test_keys_rotate_without_a_readable_key_file_says_so(stack: Settings, tmp_path: Path) -> None:
    broken = tmp_path / "kek.json"
    broken.write_text("not a key ring")
    broken.chmod(0o600)
    result = saku(stack.model_copy(update={"biometric_kek_file": broken}), "keys", "rotate")
    assert result.returncode == 1
    assert result.stdout.startswith("cannot rotate: ") and "not a valid key file" in result.stdout
    assert "Traceback" not in result.stderr


async def test_keys_rotate_payload_writes_with_a_new_key_and_old_payloads_stay_readable(
    tmp_path: Path,
) -> None:
    key_file = tmp_path / "secrets" / "payload-keys.json"
    settings = Settings(_env_file=None, SAKU_VAR_DIR=tmp_path, SAKU_PAYLOAD_KEY_FILE=key_file)
    running = PayloadKeys.load(key_file)  # a process that was running before the rotation
    assert running.ids == ["p1"] and key_file.stat().st_mode & 0o777 == 0o600
    before = EncryptionCodec(running).seal(to_payload({"tenant_id": "t1", "amount": "5000"}))

    result = saku(settings, "keys", "rotate-payload")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"payload key p2 seals workflow payloads from now on ({key_file})",
        "still readable: p1",
    ]
    rotated = PayloadKeys.load(key_file, create=False)
    assert rotated.writing[0] == "p2" and rotated.ids == ["p1", "p2"]
    after = EncryptionCodec(rotated).seal(to_payload({"tenant_id": "t1", "amount": "7000"}))
    assert after.metadata["encryption-key-id"] == b"p2"
    # the old payload opens with the new key file, the new one in the process from before
    assert from_payload(EncryptionCodec(rotated).open(before))["amount"] == "5000"
    assert from_payload(EncryptionCodec(running).open(after))["amount"] == "7000"

    from_setting = settings.model_copy(
        update={"payload_keys": SecretStr("k1:" + base64.b64encode(os.urandom(32)).decode())}
    )
    refused = saku(from_setting, "keys", "rotate-payload")
    assert refused.returncode == 1 and refused.stdout.startswith("cannot rotate: ")
    assert "SAKU_PAYLOAD_KEYS" in refused.stdout and "Traceback" not in refused.stderr


def to_payload(value: object) -> Payload:
    return DataConverter.default.payload_converter.to_payload(value)


def from_payload(payload: Payload) -> Any:
    return DataConverter.default.payload_converter.from_payload(payload)


def test_kiosk_serves_its_screen_while_saku_is_away_and_stops_on_sigterm(
    stack: Settings, tmp_path: Path
) -> None:
    from devices.sensor import SensorSimulator

    key = tmp_path / "kiosk.key"
    key.write_bytes(os.urandom(32))
    key.chmod(0o644)
    args = [
        "kiosk",
        "--tenant",
        "t1",
        "--kiosk",
        "k1",
        "--key-id",
        "key-1",
        "--key-file",
        str(key),
        "--data-dir",
        str(tmp_path / "kiosk"),
        "--saku",
        f"http://127.0.0.1:{free_port()}",
    ]
    with SensorSimulator(seed=4) as sensor:
        port = free_port()
        args += ["--sensor", sensor.port, "--port", str(port)]
        loose = saku(stack, *args)
        assert loose.returncode == 2 and "chmod 600" in loose.stdout  # a readable key: refused
        key.chmod(0o600)
        proc = subprocess.Popen(
            [sys.executable, "-m", "saku", *args],
            env=stack.as_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            screen = None
            deadline = time.monotonic() + 60
            while screen is None and time.monotonic() < deadline and proc.poll() is None:
                try:
                    screen = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                except httpx.TransportError:
                    time.sleep(0.3)
            assert screen is not None and screen.status_code == 200, proc.poll()
            status = httpx.get(f"http://127.0.0.1:{port}/status", timeout=5)
            assert status.status_code == 200
            proc.send_signal(signal.SIGTERM)
            output, _ = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert f"kiosk k1: screen on http://127.0.0.1:{port}" in output
    assert "Traceback" not in output, output


def test_bench_stream_prints_its_table_for_a_small_stream(stack: Settings) -> None:
    result = saku(
        stack,
        "bench",
        "stream",
        "--payments",
        "20",
        "--history",
        "20",
        "--accounts",
        "10",
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"decisions committed\s+20 of 20", result.stdout), result.stdout
    assert re.search(r"baseline: no-op workflows\s+[\d,]+ workflows/s", result.stdout)


def test_bench_kiosk_prints_latencies_and_refuses_a_bad_rate(stack: Settings) -> None:
    bad = saku(stack, "bench", "kiosk", "--rate", "0")
    assert bad.returncode == 2 and "--rate and --payments must be positive" in bad.stdout
    bad = saku(stack, "bench", "kiosk", "--api-processes", "0")
    assert bad.returncode == 2 and "--api-processes must be at least 1" in bad.stdout
    result = saku(
        stack,
        "bench",
        "kiosk",
        "--payments",
        "10",
        "--rate",
        "10",
        "--students",
        "5",
        "--kiosks",
        "1",
        "--api-processes",
        "2",
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"decided\s+[\d.]+ payments/s \(10 of 10\)", result.stdout), result.stdout
    assert re.search(r"latency request -> decision\s+p50 [\d.]+, p95 [\d.]+", result.stdout)
    assert re.search(r"API processes\s+2 `saku api`", result.stdout), result.stdout
    assert re.search(r"^  saku api\s+[\d.]+ ms \(2 processes", result.stdout, re.MULTILINE)
