"""The backup catalogue: a JSON file beside the backups, so a restore needs nothing but the
backup directory (the database it would restore may be the thing that was lost). The
dr_backups table mirrors it for reports."""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.dr.types import BackupRecord


class Catalogue:
    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> list[BackupRecord]:
        """Every backup, oldest first."""
        if not self.path.exists():
            return []
        data = json.loads(self.path.read_text())
        records = [BackupRecord(**entry) for entry in data["backups"]]
        return sorted(records, key=lambda r: r.finished_at)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # a scheduled and a manual backup at once
            yield

    def _write(self, records: list[BackupRecord]) -> None:
        draft = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        payload = {"backups": [dataclasses.asdict(r) for r in records]}
        with open(draft, "w") as fh:
            json.dump(payload, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(draft, self.path)  # atomic: a crash leaves the old catalogue or the new

    def add(self, record: BackupRecord) -> None:
        with self._locked():
            self._write([r for r in self.read() if r.id != record.id] + [record])

    def remove(self, ids: set[str]) -> None:
        with self._locked():
            self._write([r for r in self.read() if r.id not in ids])

    def latest_verified(self) -> BackupRecord | None:
        verified = [r for r in self.read() if r.verified]
        return verified[-1] if verified else None


def to_prune(records: list[BackupRecord], keep: int) -> list[BackupRecord]:
    """The backups retention removes: all but the newest `keep`, and never the newest
    verified one (the last good backup stays, however many failed after it)."""
    ordered = sorted(records, key=lambda r: r.finished_at)
    doomed = ordered[:-keep] if keep < len(ordered) else []
    verified = [r for r in ordered if r.verified]
    last_good = verified[-1].id if verified else None
    return [r for r in doomed if r.id != last_good]
