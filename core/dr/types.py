"""What crosses the Backup and RestoreDrill workflows' boundary (small: figures, never data)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BackupRequest:
    trigger: str  # schedule | manual


@dataclass(frozen=True)
class BackupRecord:
    """One base backup, as the catalogue (and the dr_backups table) keeps it."""

    id: str
    started_at: str  # ISO 8601, UTC
    finished_at: str  # the backup is consistent from (at the latest) this time on
    timeline: int
    start_lsn: str
    end_lsn: str
    start_wal: str
    end_wal: str
    wal_segment_size: int
    size_bytes: int
    verified: bool
    verify_detail: str
    trigger: str


@dataclass(frozen=True)
class BackupOutcome:
    backup: BackupRecord
    pruned: list[str] = field(default_factory=list)  # backup ids removed by retention
    wal_removed: int = 0  # archived WAL files older than every kept backup


@dataclass(frozen=True)
class DrillRequest:
    trigger: str  # schedule | manual


@dataclass(frozen=True)
class TableCheck:
    table: str
    live_rows: int
    restored_rows: int
    live_checksum: str
    restored_checksum: str

    @property
    def equal(self) -> bool:
        return self.live_rows == self.restored_rows and self.live_checksum == self.restored_checksum


@dataclass(frozen=True)
class DrillReport:
    ok: bool
    backup_id: str | None
    restore_point: str | None  # the last commit present in the restored copy (ISO 8601)
    rpo_ms: int | None
    rto_s: float | None
    migrations_equal: bool
    ledger_ok: bool
    ledger_problems: list[str]
    tables: list[TableCheck]
    erased_students_checked: int
    erased_students_decrypting: list[str]  # should stay empty
    histories: str  # the workflow-history replay's line, or why it did not run
    failure: str | None = None  # a drill that could not restore at all says why
    drill_id: int | None = None

    @property
    def tables_equal(self) -> int:
        return sum(1 for t in self.tables if t.equal)

    def lines(self) -> list[str]:
        """The report, one check a line."""
        out = [f"backup {self.backup_id or '-'}, restore point {self.restore_point or '-'}"]
        if self.failure:
            out.append(f"FAILED: {self.failure}")
        out.append(f"RPO {self.rpo_ms} ms" if self.rpo_ms is not None else "RPO unknown")
        out.append(f"RTO {self.rto_s:.1f} s" if self.rto_s is not None else "RTO unknown")
        out.append("migrations equal" if self.migrations_equal else "migrations DIFFER")
        if self.ledger_ok:
            out.append("ledger invariant OK")
        else:
            out.append(f"ledger invariant NOT OK: {'; '.join(self.ledger_problems[:5])}")
        out.append(f"tables equal {self.tables_equal}/{len(self.tables)}")
        for t in self.tables:
            if not t.equal:
                out.append(
                    f"  {t.table}: live {t.live_rows} rows ({t.live_checksum[:12]}), "
                    f"restored {t.restored_rows} rows ({t.restored_checksum[:12]})"
                )
        if self.erased_students_decrypting:
            out.append(
                f"erased students still decrypting: {', '.join(self.erased_students_decrypting)}"
            )
        else:
            out.append(f"erased students stay erased {self.erased_students_checked}")
        out.append(self.histories)
        out.append("drill OK" if self.ok else "drill FAILED")
        return out
