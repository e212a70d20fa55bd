"""Settings: URLs win over the embedded stack; generated secrets are private files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict
from pydantic import ValidationError

from core.settings import Settings
from core.temporal.search_attributes import cli_definitions


def test_set_urls_are_used_as_given(tmp_path: Path) -> None:
    settings = Settings(
        DATABASE_URL="postgresql://u:p@db:5432/saku",
        VALKEY_URL="redis://cache:6379/0",
        TEMPORAL_ADDRESS="temporal:7233",
        KAFKA_BOOTSTRAP_SERVERS="kafka1:9092,kafka2:9092",
        SAKU_VAR_DIR=tmp_path,
    )
    assert settings.resolved_database_url() == "postgresql://u:p@db:5432/saku"
    assert settings.resolved_valkey_url() == "redis://cache:6379/0"
    assert settings.resolved_temporal_address() == "temporal:7233"
    assert settings.resolved_kafka_bootstrap() == "kafka1:9092,kafka2:9092"
    assert not (tmp_path / "secrets").exists()  # nothing embedded, nothing generated


def test_unset_urls_mean_the_embedded_stack_with_generated_secrets(tmp_path: Path) -> None:
    settings = Settings(SAKU_VAR_DIR=tmp_path, SAKU_PG_PORT=61000, DATABASE_URL=None)
    url = settings.resolved_database_url()
    assert url.startswith("postgresql://saku:") and url.endswith("@127.0.0.1:61000/saku")
    secret_file = tmp_path / "secrets" / "postgres-saku.password"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert settings.resolved_database_url() == url  # generated once, then reused


def test_a_standby_port_makes_the_embedded_url_name_both_servers(tmp_path: Path) -> None:
    settings = Settings(
        SAKU_VAR_DIR=tmp_path, SAKU_PG_PORT=61000, SAKU_PG_REPLICA_PORT=61001, DATABASE_URL=None
    )
    url = settings.resolved_database_url()
    assert url.startswith("postgresql://saku:")
    assert url.endswith("@127.0.0.1:61000,127.0.0.1:61001/saku?target_session_attrs=read-write")
    # libpq reads it as two hosts, keeping the first that accepts writes
    parts = conninfo_to_dict(url)
    assert (parts["host"], parts["port"]) == ("127.0.0.1,127.0.0.1", "61000,61001")
    assert parts["target_session_attrs"] == "read-write"


def test_a_multi_host_database_url_is_taken_as_it_is() -> None:
    url = "postgresql://u:p@10.0.0.1:5432,10.0.0.2:5432/saku?target_session_attrs=read-write"
    assert Settings(DATABASE_URL=url).resolved_database_url() == url


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "other")
    monkeypatch.setenv("SAKU_API_PORT", "9999")
    settings = Settings()
    assert settings.temporal_namespace == "other"
    assert settings.api_port == 9999


def test_a_short_jwt_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(SAKU_JWT_SECRET="too-short")


def test_search_attributes_carry_no_personal_data() -> None:
    definitions = cli_definitions()
    assert definitions["SakuScore"] == "Double"
    assert all(kind in {"Keyword", "Double"} for kind in definitions.values())
    assert not any("name" in n.lower() or "student" in n.lower() for n in definitions)
