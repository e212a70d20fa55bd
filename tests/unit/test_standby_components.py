"""Which PostgreSQL servers the embedded stack manages: the standby once it exists, never a
former primary fenced by a failover (starting it would make two primaries)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from saku.stack.components import Postgres, PostgresReplica, embedded_components
from saku.stack.process import StackError


def names(settings: Settings) -> list[str]:
    return [c.name for c in embedded_components(settings)]


def test_the_standby_joins_the_stack_once_it_exists(tmp_path: Path) -> None:
    settings = Settings(SAKU_VAR_DIR=tmp_path, SAKU_PG_REPLICA_PORT=61002, DATABASE_URL=None)
    assert "postgres-replica" not in names(settings)  # not created: `stack up` does not clone
    replica = PostgresReplica(settings)
    replica.data_dir.mkdir(parents=True)
    (replica.data_dir / "PG_VERSION").write_text("18\n")
    assert names(settings)[:2] == ["postgres", "postgres-replica"]
    unset = settings.model_copy(update={"pg_replica_port": None})
    assert "postgres-replica" not in names(unset)


def test_a_fenced_former_primary_is_neither_managed_nor_started(tmp_path: Path) -> None:
    settings = Settings(SAKU_VAR_DIR=tmp_path, SAKU_PG_REPLICA_PORT=61002, DATABASE_URL=None)
    primary = Postgres(settings)
    primary.data_dir.mkdir(parents=True)
    primary.fence_file.write_text("failed over to postgres-replica\n")
    assert "postgres" not in names(settings)
    with pytest.raises(StackError, match="saku dr replica rejoin"):
        primary.prepare()
