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

from core.settings import Settings
from core.temporal.search_attributes import cli_definitions

Services = dict[str, Any]

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "infra" / "compose"
COMPOSE_FILES = ("option-a.yml", "option-b.yml")
ENV_EXAMPLE = ROOT / "infra" / ".env.example"

# ${NAME}, ${NAME:-default}, ${NAME:?message}; compose reads `$$` as a literal `$`
INTERPOLATION = re.compile(r"(?<!\$)\$\{(?P<name>\w+)(?:(?P<op>:[-?])(?P<arg>[^}]*))?\}")
REQUIRED = re.compile(r"\$\{\w+:\?[^}]+\}")
URL_PASSWORD = re.compile(r"://[^/\s:@]*:(?P<password>\$\{[^}]*\}|[^@\s/]*)@")
SECRET_KEY = re.compile(r"PASSWORD|SECRET|PWD")
BROKER = re.compile(r"kafka|redpanda|tansu|zookeeper|confluent", re.IGNORECASE)
ALIASES = {field.alias: name for name, field in Settings.model_fields.items()}
COMPONENT_URLS = {"DATABASE_URL", "VALKEY_URL", "TEMPORAL_ADDRESS", "KAFKA_BOOTSTRAP_SERVERS"}
NAMESPACE = f"${{TEMPORAL_NAMESPACE:-{Settings.model_fields['temporal_namespace'].default}}}"


def load(name: str) -> Services:
    doc = yaml.safe_load((COMPOSE_DIR / name).read_text())
    assert isinstance(doc, dict) and doc.get("services"), f"{name} defines no services"
    services: Services = doc["services"]
    return services


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


def one_shot_jobs(services: Services) -> set[str]:
    """Services others wait for with `service_completed_successfully`."""
    return {
        target
        for svc in services.values()
        for target, dep in (svc.get("depends_on") or {}).items()
        if dep["condition"] == "service_completed_successfully"
    }


def saku_services(services: Services) -> Services:
    return {n: s for n, s in services.items() if s["image"].startswith("saku:")}


def memory_bytes(value: str) -> int:
    match = re.fullmatch(r"(\d+)([kmg]?)b?", value.lower())
    assert match, value
    return int(match[1]) << {"": 0, "k": 10, "m": 20, "g": 30}[match[2]]


@pytest.fixture(params=COMPOSE_FILES)
def services(request: pytest.FixtureRequest) -> Services:
    return load(request.param)


def test_every_service_has_an_image_and_long_running_ones_a_healthcheck(
    services: Services,
) -> None:
    jobs = one_shot_jobs(services)
    for name, svc in services.items():
        assert svc.get("image"), f"{name} has no image"
        if name in jobs:
            assert svc.get("restart") == "no", f"one-shot {name} must not be restarted"
        else:
            assert svc.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
            assert svc.get("restart") == "unless-stopped", name


def test_depends_on_targets_exist_on_the_same_server(services: Services) -> None:
    for name, svc in services.items():
        for target in svc.get("depends_on") or {}:
            assert target in services, f"{name} depends on unknown service {target}"
            profiles = set(services[target].get("profiles", [None]))
            assert profiles & set(svc.get("profiles", [None])), f"{target} is on another server"


def test_secrets_only_come_from_required_interpolation(services: Services) -> None:
    for name, svc in services.items():
        for key, value in (svc.get("environment") or {}).items():
            if SECRET_KEY.search(key):
                assert REQUIRED.fullmatch(str(value)), f"{name}: literal {key}"
        for flag, value in pairwise(svc.get("command") or []):
            if flag == "--requirepass":
                assert REQUIRED.fullmatch(value), f"{name}: literal requirepass"
    for text in strings(services):
        for match in URL_PASSWORD.finditer(text):
            assert REQUIRED.fullmatch(match["password"]), f"password in URL {text!r}"


def test_saku_services_use_settings_names_and_address_every_component(services: Services) -> None:
    saku = saku_services(services)
    commands = {" ".join(svc["command"]) for svc in saku.values()}
    assert commands == {"saku db migrate", "saku worker", "saku api", "saku consume"}
    for name, svc in saku.items():
        env = set(svc["environment"])
        assert env <= set(ALIASES), f"{name}: not Settings aliases: {env - set(ALIASES)}"
        # an unset URL would make Saku start an embedded component inside the container
        assert env >= COMPONENT_URLS | {"SAKU_JWT_SECRET"}, name
        # the same .env that Settings reads from the repository root
        assert [(COMPOSE_DIR / f["path"]).resolve() for f in svc["env_file"]] == [ROOT / ".env"]
        assert all(f["required"] is False for f in svc["env_file"])


def test_saku_environment_defaults_are_the_settings_defaults(services: Services) -> None:
    for name, svc in saku_services(services).items():
        for key, value in svc["environment"].items():
            match = INTERPOLATION.fullmatch(str(value))
            if match and match["name"] == key and match["op"] == ":-":
                default = Settings.model_fields[ALIASES[key]].default
                assert match["arg"] == str(default), f"{name}: default of {key}"


def test_saku_processes_wait_for_migrations_and_temporal_setup(services: Services) -> None:
    for name, svc in saku_services(services).items():
        if svc["command"] != ["saku", "db", "migrate"]:
            for job in ("saku-migrate", "temporal-setup"):
                condition = svc["depends_on"][job]["condition"]
                assert condition == "service_completed_successfully", name


def test_temporal_setup_registers_the_settings_namespace_and_saku_search_attributes(
    services: Services,
) -> None:
    setup = services["temporal-setup"]
    script = "\n".join(setup["command"])
    created = re.findall(r"search-attribute create .*--name (\w+) --type (\w+)", script)
    assert dict(created) == cli_definitions()
    assert len(created) == len(cli_definitions())
    assert setup["environment"]["TEMPORAL_NAMESPACE"] == NAMESPACE
    assert 'ns="$$TEMPORAL_NAMESPACE"' in script
    assert set(re.findall(r"--namespace (\S+)", script)) == {'"$$ns"'}
    assert setup["depends_on"]["temporal"]["condition"] == "service_healthy"
    for svc in saku_services(services).values():
        assert svc["environment"]["TEMPORAL_NAMESPACE"] == NAMESPACE


def test_no_kafka_broker_runs_here_the_banks_is_required(services: Services) -> None:
    for name, svc in services.items():
        assert not BROKER.search(f"{name} {svc['image']}"), name
    for svc in saku_services(services).values():
        bootstrap = svc["environment"]["KAFKA_BOOTSTRAP_SERVERS"]
        assert re.fullmatch(r"\$\{KAFKA_BOOTSTRAP_SERVERS:\?[^}]+\}", bootstrap)


def test_postgres_18_data_volume_is_mounted_where_the_image_keeps_it(services: Services) -> None:
    postgres = services["postgres"]
    assert postgres["image"] == "postgres:18"
    assert any(volume.split(":")[1] == "/var/lib/postgresql" for volume in postgres["volumes"])


@pytest.mark.parametrize(
    ("name", "profile", "gib"),
    [
        ("option-a.yml", None, 14),  # the request's 16 GB RAM split keeps 2 GB for the OS
        ("option-b.yml", "db", 28),  # 32 GB servers, 4 GB for the OS
        ("option-b.yml", "app", 28),
    ],
)
def test_memory_limits_fit_the_server(name: str, profile: str | None, gib: int) -> None:
    limits = [
        memory_bytes(svc["deploy"]["resources"]["limits"]["memory"])
        for svc in load(name).values()
        if "deploy" in svc and (profile is None or profile in svc.get("profiles", []))
    ]
    assert limits and sum(limits) <= gib << 30, f"{sum(limits) / (1 << 30):.2f} GiB"


def test_option_b_puts_every_service_on_exactly_one_server() -> None:
    services = load("option-b.yml")
    db = {name for name, svc in services.items() if svc.get("profiles") == ["db"]}
    app = {name for name, svc in services.items() if svc.get("profiles") == ["app"]}
    assert db == {"postgres", "valkey"}
    assert app == set(services) - db


def test_env_example_lists_exactly_the_variables_the_compose_files_use() -> None:
    used = {
        match["name"]
        for name in COMPOSE_FILES
        for text in strings(load(name))
        for match in INTERPOLATION.finditer(text)
    }
    example = dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )
    assert set(example) == used
    for key, value in example.items():
        if SECRET_KEY.search(key):
            assert value.startswith("change-me"), f"{key} in .env.example must be a placeholder"
