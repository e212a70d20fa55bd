"""The kiosk's offline journal (SQLite): sales made while Saku is unreachable, each signed
by the kiosk's key when made, within a per-student daily cap and a per-kiosk total, until
they are synced. Synced sales are kept: after a restore of Saku's database, those it lost
are marked unsynced and sent again.

Beside the sales it keeps what the kiosk needs to sell offline, even after a restart
without the network: the last config Saku sent (the offline caps and the categories) and
the school's roster.

Why the roster is safe to keep on a kiosk: it holds, per pseudonymous student id, only the
display name the school gave the child for the till ("Budi S.", at most 40 characters),
which the screen shows at every sale anyway. No fingerprint template or anything else
biometric (those live in the sensor, sealed in Saku's vault otherwise), no PIN, balance,
grade or guardian. Only the school's active students are in it, at most ROSTER_MAX, and
the whole roster is replaced when Saku's changes: a child who leaves is dropped at the
kiosk's next sync.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.kiosk_signing import sign_journal_entry
from devices.kiosk.client import KioskIdentity

# the most names the kiosk keeps (Saku sends no more), and the longest it keeps one
ROSTER_MAX = 10_000
NAME_MAX = 40


def _local_day(at: datetime) -> str:
    # the school's day, as the kiosk's clock (set to the school's zone) sees it
    return at.astimezone().date().isoformat()


class Journal:
    def __init__(self, path: Path | str, identity: KioskIdentity) -> None:
        self.identity = identity
        self.db = sqlite3.connect(str(path), check_same_thread=False)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS sales (kiosk_tx_id TEXT PRIMARY KEY, student_id TEXT "
            "NOT NULL, amount TEXT NOT NULL, day TEXT NOT NULL, entry TEXT NOT NULL, "
            "synced INTEGER NOT NULL DEFAULT 0)"
        )
        # what the kiosk has seen of Saku: the restore epoch it last caught up with
        self.db.execute("CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, value TEXT)")
        # the school's students' display names, for a sale that gets no receipt (offline)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS roster (student_id TEXT PRIMARY KEY, "
            "display_name TEXT NOT NULL)"
        )
        self.db.commit()

    def spent_today(self, student_id: str) -> Decimal:
        """This kiosk's offline sales to the student today (the kiosk's local day)."""
        rows = self.db.execute(
            "SELECT amount FROM sales WHERE student_id = ? AND day = ?",
            (student_id, _local_day(datetime.now(UTC))),
        ).fetchall()
        return sum((Decimal(r[0]) for r in rows), Decimal(0))

    def unsynced_total(self) -> Decimal:
        rows = self.db.execute("SELECT amount FROM sales WHERE synced = 0").fetchall()
        return sum((Decimal(r[0]) for r in rows), Decimal(0))

    def unsynced(self) -> tuple[int, Decimal]:
        """How many sales are not synced yet, and their amount (what the kiosk reports)."""
        rows = self.db.execute("SELECT amount FROM sales WHERE synced = 0").fetchall()
        return len(rows), sum((Decimal(r[0]) for r in rows), Decimal(0))

    def record(self, sale: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
        """Sign and keep one sale; returns the journal entry as it will be sent."""
        at = now or datetime.now(UTC)
        entry = sale | {"sold_at": at.isoformat(), "key_id": self.identity.key_id}
        entry["signature"] = sign_journal_entry(self.identity.private_key, entry)
        with self.db:
            self.db.execute(
                "INSERT INTO sales (kiosk_tx_id, student_id, amount, day, entry) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    sale["kiosk_tx_id"],
                    sale["student_id"],
                    sale["amount"],
                    _local_day(at),
                    json.dumps(entry),
                ),
            )
        return entry

    def pending(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT entry FROM sales WHERE synced = 0 ORDER BY rowid").fetchall()
        return [json.loads(r[0]) for r in rows]

    def mark_synced(self, kiosk_tx_ids: list[str]) -> None:
        with self.db:
            self.db.executemany(
                "UPDATE sales SET synced = 1 WHERE kiosk_tx_id = ?", [(t,) for t in kiosk_tx_ids]
            )

    def synced(self, after: int, limit: int) -> list[tuple[int, str]]:
        """Up to `limit` synced sales after position `after`: (position, kiosk_tx_id)."""
        rows = self.db.execute(
            "SELECT rowid, kiosk_tx_id FROM sales WHERE synced = 1 AND rowid > ? "
            "ORDER BY rowid LIMIT ?",
            (after, limit),
        ).fetchall()
        return [(int(r[0]), str(r[1])) for r in rows]

    def mark_unsynced(self, kiosk_tx_ids: list[str]) -> None:
        with self.db:
            self.db.executemany(
                "UPDATE sales SET synced = 0 WHERE kiosk_tx_id = ?", [(t,) for t in kiosk_tx_ids]
            )

    def restore_epoch(self) -> str | None:
        """The restore of Saku's database this kiosk last caught up with."""
        return self._seen("restore_epoch")

    def caught_up_with(self, epoch: str) -> None:
        with self.db:
            self._see("restore_epoch", epoch)

    def _see(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO seen (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def _seen(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM seen WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def remember_config(
        self, caps: tuple[Decimal, Decimal], categories: list[tuple[str, str]]
    ) -> None:
        """Keep the offline caps and the categories Saku sent last."""
        config = {
            "caps": [str(caps[0]), str(caps[1])],
            "categories": [list(category) for category in categories],
        }
        with self.db:
            self._see("config", json.dumps(config))

    def remembered_config(self) -> tuple[tuple[Decimal, Decimal], list[tuple[str, str]]] | None:
        """The caps and categories last kept; None if Saku never sent any to this kiosk."""
        kept = self._seen("config")
        if kept is None:
            return None
        config = json.loads(kept)
        student_cap, kiosk_cap = config["caps"]
        categories = [(str(i), str(n)) for i, n in config["categories"]]
        return (Decimal(student_cap), Decimal(kiosk_cap)), categories

    def roster_version(self) -> str | None:
        """The version of the roster kept (Saku's `roster_version`); None: none kept."""
        return self._seen("roster_version")

    def replace_roster(self, version: str, students: list[tuple[str, str]]) -> None:
        """Keep this roster instead of the one before (at most ROSTER_MAX names)."""
        with self.db:
            self.db.execute("DELETE FROM roster")
            self.db.executemany(
                "INSERT OR REPLACE INTO roster (student_id, display_name) VALUES (?, ?)",
                [(student, name[:NAME_MAX]) for student, name in students[:ROSTER_MAX]],
            )
            self._see("roster_version", version)

    def display_name(self, student_id: str) -> str | None:
        """The name the screen greets the student by, if the roster has them."""
        row = self.db.execute(
            "SELECT display_name FROM roster WHERE student_id = ?", (student_id,)
        ).fetchone()
        return None if row is None else str(row[0])
