"""Static checks of the production compose files in infra/compose (Docker is not needed).

They keep the deployment aligned with the code: the environment names are Settings' aliases,
Temporal gets exactly Saku's search attributes, secrets only come from the environment.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml

from saku.settings import Settings
from saku.temporal.search_attributes import cli_definitions

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "infra" / "compose"
COMPOSE_FILES = ("option-a.yml", "option-b.yml")
ENV_EXAMPLE = ROOT / "infra" / ".env.example"

# ${NAME}, ${NAME:-default}, ${NAME:?message}; compose reads `$$` as a literal `$`
INTERPOLATION = re.compile(r"(?<!\$)\$\{(?P<name>\w+)(?:(?P<op>:[-?])(?P<arg>[^}]*))?\}")
REQUIRED = re.compile(r"\$\{\w+:\?[^}]+\}")
URL_PASSWORD = re.compile(r"://[^/\s:@]*:(?P<password>\$\{[^}]*\}|[^@\s/]*)@")
SECRET_KEY = re.compile(r"PASSWORD|SECRET|PWD")
BROKER_IMAGE = re.compile(r"kafka|redpanda|tansu|zookeeper|confluent", re.IGNORECASE)
ALIASES = {field.alias: name for name, field in Settings.model_fields.items()}
COMPONENT_URLS = {"DATABASE_URL", "VALKEY_URL", "TEMPORAL_ADDRESS", "KAFKA_BOOTSTRAP_SERVERS"}
# memory each server leaves to the OS: the request's RAM split keeps 2 of 16 GB for option A
MEMORY_BUDGET = {
    "option-a.yml": {None: 14 << 30},
    "option-b.yml": {"db": 28 << 30, "app": 28 << 30},
}


def load(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((COMPOSE_DIR / name).read_text())
    assert isinstance(doc, dict) and doc.get("services"), f"{name} defines no services"
    return doc


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def one_shot_jobs(services: dict[str, Any]) -> set[str]:
    """Services others wait for with `service_completed_successfully`."""
    return {
        target
        for svc in services.values()
        if isinstance(svc.get("depends_on"), dict)
        for target, dep in svc["depends_on"].items()
        if dep.get("condition") == "service_completed_successfully"
    }


def saku_services(services: dict[str, Any]) -> dict[str, Any]:
    return {n: s for n, s in services.items() if s["image"].startswith("saku:")}


def memory_bytes(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kmg]?)b?", value.lower()).groups()  # type: ignore[union-attr]
    return int(number) << {"": 0, "k": 10, "m": 20, "g": 30}[unit]


@pytest.fixture(params=COMPOSE_FILES)
def services(request: pytest.FixtureRequest) -> dict[str, Any]:
    services: dict[str, Any] = load(request.param)["services"]
    return services


def test_every_service_has_an_image_and_long_running_ones_a_healthcheck(services: dict[str, Any]) -> None:
    jobs = one_shot_jobs(services)
    for name, svc in services.items():
        assert svc.get("image"), f"{name} has no image"
        if name in jobs:
            assert svc.get("restart") == "no", f"one-shot {name} must not be restarted"
        else:
            assert svc.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
            assert svc.get("restart") == "unless-stopped", name


def test_depends_on_targets_exist_on_the_same_server(services: dict[str, Any]) -> None:
    for name, svc in services.items():
        for target in svc.get("depends_on") or {}:
            assert target in services, f"{name} depends on unknown service {target}"
            shared = set(svc.get("profiles", [None])) & set(
                services[target].get("profiles", [None])
            )
            assert shared, f"{name} waits for {target}, which runs on the other server"


def test_secrets_only_come_from_required_interpolation(services: dict[str, Any]) -> None:
    for svc_name, svc in services.items():
        for key, value in (svc.get("environment") or {}).items():
            if SECRET_KEY.search(key):
                assert REQUIRED.fullmatch(str(value)), f"{svc_name}: literal {key}"
        command = svc.get("command") or []
        for flag, value in pairwise(command):
            if flag == "--requirepass":
                assert REQUIRED.fullmatch(value), f"{svc_name}: literal requirepass"
    for text in strings(services):
        for match in URL_PASSWORD.finditer(text):
            assert REQUIRED.fullmatch(match["password"]), f"password in URL {text!r}"


def test_saku_services_use_only_settings_names_and_set_every_component(services: dict[str, Any]) -> None:
    saku = saku_services(services)
    commands = {" ".join(svc["command"]) for svc in saku.values()}
    assert commands == {"saku db migrate", "saku worker", "saku api", "saku consume"}
    for svc_name, svc in saku.items():
        env = svc["environment"]
        assert set(env) <= set(ALIASES), (
            f"{svc_name}: not Settings names: {set(env) - set(ALIASES)}"
        )
        # an unset URL would make Saku start an embedded component inside the container
        assert set(env) >= COMPONENT_URLS | {"SAKU_JWT_SECRET"}, svc_name
        assert [(COMPOSE_DIR / f["path"]).resolve() for f in svc["env_file"]] == [ROOT / ".env"]
        assert all(f["required"] is False for f in svc["env_file"])


def test_saku_environment_defaults_are_the_settings_defaults(services: dict[str, Any]) -> None:
    for svc_name, svc in saku_services(services).items():
        for key, value in svc["environment"].items():
            match = INTERPOLATION.fullmatch(str(value))
            if match and match["name"] == key and match["op"] == ":-":
                default = Settings.model_fields[ALIASES[key]].default
                assert match["arg"] == str(default), f"{svc_name}: {key} default differs"


def test_saku_processes_wait_for_migrations_and_temporal_setup(services: dict[str, Any]) -> None:
    for svc_name, svc in saku_services(services).items():
        if svc["command"] == ["saku", "db", "migrate"]:
            continue
        for job in ("saku-migrate", "temporal-setup"):
            assert svc["depends_on"][job]["condition"] == "service_completed_successfully", svc_name


def test_temporal_setup_registers_exactly_the_saku_namespace_and_search_attributes(services: dict[str, Any]) -> None:
    setup = services["temporal-setup"]
    script = "\n".join(setup["command"])
    registered = dict(re.findall(r"search-attribute create .*--name (\w+) --type (\w+)", script))
    assert registered == cli_definitions()
    namespace = f"${{TEMPORAL_NAMESPACE:-{Settings.model_fields['temporal_namespace'].default}}}"
    assert setup["environment"]["TEMPORAL_NAMESPACE"] == namespace
    assert 'ns="$$TEMPORAL_NAMESPACE"' in script
    assert set(re.findall(r"--namespace (\S+)", script)) == {'"$$ns"'}
    for svc in saku_services(services).values():
        assert svc["environment"]["TEMPORAL_NAMESPACE"] == namespace
    assert setup["depends_on"]["temporal"]["condition"] == "service_healthy"


def test_no_kafka_broker_runs_here_the_banks_is_used(services: dict[str, Any]) -> None:
    for svc_name, svc in services.items():
        assert not BROKER_IMAGE.search(svc_name + " " + svc["image"]), svc_name
    for svc in saku_services(services).values():
        assert re.fullmatch(
            r"\$\{KAFKA_BOOTSTRAP_SERVERS:\?[^}]+\}", svc["environment"]["KAFKA_BOOTSTRAP_SERVERS"]
        )


def test_postgres_18_data_volume_is_mounted_where_the_image_keeps_it(services: dict[str, Any]) -> None:
    postgres = services["postgres"]
    assert postgres["image"] == "postgres:18"
    assert any(v.split(":")[1] == "/var/lib/postgresql" for v in postgres["volumes"])


def test_memory_limits_fit_each_server(services: dict[str, Any]) -> None:
    for profile, budget in MEMORY_BUDGET[name].items():
        total = sum(
            memory_bytes(svc["deploy"]["resources"]["limits"]["memory"])
            for svc in services.values()
            if "deploy" in svc and (profile is None or profile in svc.get("profiles", []))
        )
        assert 0 < total <= budget, f"{name} {profile or ''}: {total / (1 << 30):.2f} GiB"


def test_option_b_puts_every_service_on_exactly_one_server() -> None:
    services = load("option-b.yml")["services"]
    db = {n for n, s in services.items() if s.get("profiles") == ["db"]}
    app = {n for n, s in services.items() if s.get("profiles") == ["app"]}
    assert db == {"postgres", "valkey"}
    assert app == set(services) - db


def test_env_example_lists_exactly_the_variables_the_compose_files_use() -> None:
    used = {
        m["name"]
        for name in COMPOSE_FILES
        for text in strings(load(name))
        for m in INTERPOLATION.finditer(text)
    }
    example = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            example[key.strip()] = value.strip()
    assert set(example) == used
    for key, value in example.items():
        if SECRET_KEY.search(key):
            assert value.startswith("change-me"), f"{key} in .env.example must be a placeholder"
