"""Monitoring configuration: validated on write, all or nothing, from the CLI and the API."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from activities.monitoring.config_store import ConfigStore, export_bundle, import_bundle
from activities.monitoring.defaults import default_bundle
from core.db import Pool
from core.monitoring.config import ConfigError
from core.settings import Settings

pytestmark = pytest.mark.integration
DEFAULTS = Path(__file__).resolve().parents[2] / "infra" / "config" / "default.json"


@pytest.fixture
def tenant(bank: str) -> str:
    return bank


def bundle() -> dict[str, Any]:
    return copy.deepcopy(default_bundle())


async def assert_nothing_stored(pool: Pool, tenant: str) -> None:
    exported = await export_bundle(ConfigStore(pool), tenant)
    assert exported == {"rules": [], "typologies": [], "networkMaps": []}


async def test_a_map_naming_a_missing_typology_stores_nothing(pool: Pool, tenant: str) -> None:
    bad = bundle()
    bad["typologies"] = bad["typologies"][1:]  # the map still routes to the first one
    with pytest.raises(ConfigError, match=r"typology-processor@1\.0\.0.*not found"):
        await import_bundle(ConfigStore(pool), tenant, bad)
    await assert_nothing_stored(pool, tenant)


async def test_a_typology_without_an_err_weight_stores_nothing(pool: Pool, tenant: str) -> None:
    bad = bundle()
    weights = bad["typologies"][1]["rules"][0]["wghts"]
    bad["typologies"][1]["rules"][0]["wghts"] = [w for w in weights if w["ref"] != ".err"]
    with pytest.raises(ConfigError, match=r"no weight for outcome\(s\) \.err"):
        await import_bundle(ConfigStore(pool), tenant, bad)
    await assert_nothing_stored(pool, tenant)


async def test_a_changed_config_under_a_stored_version_is_refused_whole(
    pool: Pool, tenant: str
) -> None:
    store = ConfigStore(pool)
    await import_bundle(store, tenant, bundle())
    changed = bundle()
    changed["rules"][0]["config"]["bands"][0]["reason"] = "edited in place"
    changed["networkMaps"][0]["cfg"] = "2.0.0"
    changed["activate"] = "2.0.0"
    with pytest.raises(ConfigError, match="already exists with different content"):
        await import_bundle(store, tenant, changed)
    assert await store.active_cfg(tenant) == "1.0.0"  # the new map was not stored either
    assert [m["cfg"] for m in (await export_bundle(store, tenant))["networkMaps"]] == ["1.0.0"]


def saku(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "saku", *args],
        env=settings.as_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_config_commands(stack: Settings, tenant: str) -> None:
    first = saku(stack, "config", "import", str(DEFAULTS), "--tenant", tenant)
    assert first.returncode == 0, first.stderr
    assert "activated network map 1.0.0" in first.stdout
    again = saku(stack, "config", "import", str(DEFAULTS), "--tenant", tenant)
    assert "rule " not in again.stdout  # everything was stored already

    exported = json.loads(saku(stack, "config", "export", "--tenant", tenant).stdout)
    assert exported["activate"] == "1.0.0"
    assert len(exported["rules"]) == len(default_bundle()["rules"])

    missing = saku(stack, "config", "activate", "9.9.9", "--tenant", tenant)
    assert missing.returncode == 2 and "no network map cfg '9.9.9'" in missing.stderr
    unreadable = saku(stack, "config", "import", "/no/such/file.json", "--tenant", tenant)
    assert unreadable.returncode == 2 and "cannot read" in unreadable.stderr
