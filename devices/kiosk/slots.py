"""Which sensor slot holds which student's finger: kept on the kiosk only (SQLite), so the
sensor's library holds no names and the server needs no knowledge of slots."""

from __future__ import annotations

import sqlite3
from pathlib import Path


class SlotMap:
    def __init__(self, path: Path | str) -> None:
        self.db = sqlite3.connect(str(path), check_same_thread=False)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS slots (slot INTEGER PRIMARY KEY, student_id TEXT NOT "
            "NULL, finger INTEGER NOT NULL, UNIQUE (student_id, finger))"
        )
        self.db.commit()

    def put(self, slot: int, student_id: str, finger: int) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO slots (slot, student_id, finger) VALUES (?, ?, ?)",
                (slot, student_id, finger),
            )

    def slot_of(self, student_id: str, finger: int) -> int | None:
        row = self.db.execute(
            "SELECT slot FROM slots WHERE student_id = ? AND finger = ?", (student_id, finger)
        ).fetchone()
        return None if row is None else int(row[0])

    def student_at(self, slot: int) -> tuple[str, int] | None:
        row = self.db.execute(
            "SELECT student_id, finger FROM slots WHERE slot = ?", (slot,)
        ).fetchone()
        return None if row is None else (str(row[0]), int(row[1]))

    def remove(self, slot: int) -> None:
        with self.db:
            self.db.execute("DELETE FROM slots WHERE slot = ?", (slot,))
