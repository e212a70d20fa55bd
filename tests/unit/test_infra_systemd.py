"""The systemd units in infra/systemd/: `systemd-analyze verify` finds nothing to say about
them, installed as on an option A or an option B server, and they keep their restart
policy, limits, hardening and secrets where the deployment notes say."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from core.settings import Settings
from tests.system_packages import ensure_command

SYSTEMD = Path(__file__).resolve().parents[2] / "infra" / "systemd"
SERVICES = sorted(path.name for path in SYSTEMD.glob("saku*.service"))
UNITS = [*SERVICES, "saku.target"]
DROP_INS = {"A": None, "B": SYSTEMD / "option-b"}


def _host_units() -> Path:
    for folder in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")):
        if (folder / "sysinit.target").exists():
            return folder
    pytest.fail("the systemd package is installed but has no sysinit.target")


def verify(root: Path, units: Path, drop_ins: Path | None) -> tuple[int, str]:
    """`systemd-analyze verify` of Saku's units installed under `root` as on a server;
    returns its exit status and everything it said (it reports unknown directives only as
    warnings, with status 0)."""
    analyze = ensure_command("systemd-analyze", "systemd")
    # --root: the units, the ExecStart binary and the host's own units (sysinit.target and
    # the rest of the default dependencies) are looked up in a tree of the test's own, so
    # neither a missing /opt/saku nor a container without systemd running gets in the way
    shutil.copytree(_host_units(), root / "usr/lib/systemd/system", symlinks=True)
    system = root / "etc/systemd/system"
    system.mkdir(parents=True)
    for unit in UNITS:
        shutil.copy(units / unit, system / unit)
    if drop_ins is not None:
        shutil.copytree(drop_ins, system, dirs_exist_ok=True)
    saku = root / "opt/saku/.venv/bin/saku"
    saku.parent.mkdir(parents=True)
    saku.write_text("#!/bin/sh\n")
    saku.chmod(0o755)
    done = subprocess.run(
        [analyze, "verify", "--man=no", f"--root={root}", *UNITS],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, (done.stdout + done.stderr).strip()


@pytest.mark.parametrize("option", sorted(DROP_INS))
def test_systemd_analyze_verify_finds_nothing_to_say(tmp_path: Path, option: str) -> None:
    assert verify(tmp_path, SYSTEMD, DROP_INS[option]) == (0, "")


def test_the_check_catches_a_misspelled_directive_and_a_wrong_path(tmp_path: Path) -> None:
    units = tmp_path / "units"
    shutil.copytree(SYSTEMD, units)
    worker = units / "saku-worker.service"
    worker.write_text(worker.read_text().replace("NoNewPrivileges=", "NoNewPrivilege="))
    status, said = verify(tmp_path / "root-1", units, None)
    assert "Unknown key 'NoNewPrivilege'" in said
    api = units / "saku-api.service"
    api.write_text(api.read_text().replace("/.venv/bin/saku", "/venv/bin/saku"))
    status, said = verify(tmp_path / "root-2", units, None)
    assert status != 0 and "/opt/saku/venv/bin/saku" in said


def directives(path: Path) -> dict[str, dict[str, str]]:
    """section -> directive -> value (the last one, as systemd reads most of them)."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
        elif "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            current[key] = value
    return sections


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_restarts_has_limits_and_is_hardened(service: str) -> None:
    unit = directives(SYSTEMD / service)
    assert {"StartLimitIntervalSec", "StartLimitBurst", "PartOf"} <= set(unit["Unit"])
    s = unit["Service"]
    assert s["Restart"] == "on-failure" and s["RestartSec"]
    assert {"MemoryMax", "TasksMax", "LimitNOFILE", "TimeoutStopSec"} <= set(s) or (
        s["Type"] == "oneshot"
    )
    assert s["User"] == "saku" and s["Group"] == "saku"
    assert s["NoNewPrivileges"] == "yes"
    assert s["ProtectSystem"] == "strict"
    assert s["PrivateTmp"] == "yes"
    assert s["CapabilityBoundingSet"] == ""
    assert s["StateDirectory"] == "saku"  # the one writable path, and SAKU_VAR_DIR
    assert s["Environment"] == "SAKU_VAR_DIR=/var/lib/saku"
    assert s["EnvironmentFile"] == "/etc/saku/saku.env"
    assert s["ExecStart"].startswith("/opt/saku/.venv/bin/saku ")


def test_no_unit_carries_a_secret() -> None:
    for path in SYSTEMD.rglob("*"):
        if path.suffix in {".service", ".target", ".conf"}:
            text = "\n".join(line for line in path.read_text().splitlines() if "=" in line)
            assert not re.search(r"SECRET|PASSWORD|://[^/\s]*:[^@\s]*@", text), path


def test_the_environment_file_names_are_settings_and_its_secrets_placeholders() -> None:
    aliases = {field.alias for field in Settings.model_fields.values() if field.alias}
    example = (SYSTEMD / "saku.env.example").read_text().splitlines()
    values = dict(line.split("=", 1) for line in example if line and not line.startswith("#"))
    assert set(values) <= aliases, set(values) - aliases
    assert {"DATABASE_URL", "VALKEY_URL", "TEMPORAL_ADDRESS", "SAKU_JWT_SECRET"} <= set(values)
    for name in ("SAKU_JWT_SECRET", "SAKU_WEBHOOK_SECRET", "DATABASE_URL", "VALKEY_URL"):
        assert "change-me" in values[name], name


def test_option_b_only_raises_the_limits_of_units_that_exist() -> None:
    for drop_in in (SYSTEMD / "option-b").glob("*.service.d/*.conf"):
        assert (SYSTEMD / drop_in.parent.name.removesuffix(".d")).exists(), drop_in
        assert set(directives(drop_in)["Service"]) <= {"MemoryMax", "CPUQuota"}, drop_in
