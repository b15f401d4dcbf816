"""The local journal (SQLite): what was placed where, what is still to acknowledge, and the
facts `status` shows. After a crash it, not the server, decides what happened."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from ledgerdrop_agent.winfs import on_network_drive

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL,
    relative_path TEXT NOT NULL,
    placed_path TEXT,
    state TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    placed_at TEXT,
    acked_at TEXT,
    problem_since TEXT,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_state ON deliveries (state);
CREATE TABLE IF NOT EXISTS facts (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS main_folders (path TEXT PRIMARY KEY, marked_at TEXT NOT NULL);
"""


# Ids per `IN (…)` list: older SQLite builds allow 999 parameters per statement.
_MAX_IDS = 900
_MARK_ACKED = "UPDATE deliveries SET state = ?, acked_at = ?, updated_at = ?"
_SELECT_ENTRIES = (
    "SELECT id, sha256, relative_path, placed_path, state, problem_since, last_error"
    " FROM deliveries"
)


class State(StrEnum):
    PENDING = "pending"  # seen, blocked by a local problem before it could be staged
    STAGED = "staged"  # written by earlier versions; staging is cleared on start anyway
    PLACED = "placed"  # durably in its folder, not yet acknowledged to the server
    ACKED = "acked"
    FAILED = "failed"


@dataclass(frozen=True)
class Entry:
    id: int
    sha256: str
    relative_path: str
    placed_path: str | None
    state: State
    problem_since: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class Summary:
    last_contact: datetime | None
    root_folder: str | None  # as set on the server
    main_folder: str | None  # as used, after --root and ~
    backlog: int | None
    placed_not_acked: int
    failed: int
    acked: int
    last_error: str | None
    last_error_at: datetime | None


def now() -> datetime:
    return datetime.now(UTC)


class Journal:
    """One SQLite connection shared by the download threads, guarded by a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        # WAL needs memory shared between processes, which a network drive (an agent home on a
        # share, a redirected AppData) does not give: there, SQLite's classic rollback journal.
        self.journal_mode = "delete" if on_network_drive(path.parent) else "wal"
        self._db.execute(f"PRAGMA journal_mode={self.journal_mode}")
        # FULL: a placement recorded here must survive a power cut, or it could be placed twice.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def get(self, delivery_id: int) -> Entry | None:
        return self.get_many([delivery_id]).get(delivery_id)

    def get_many(self, delivery_ids: Iterable[int]) -> dict[int, Entry]:
        """The entries of these deliveries that the journal has, by id: one query per few
        hundred, not one per delivery offered."""
        ids = list(delivery_ids)
        rows: list[tuple[int, str, str, str | None, str, str | None, str | None]] = []
        with self._lock:
            for start in range(0, len(ids), _MAX_IDS):
                chunk = ids[start : start + _MAX_IDS]
                query = _SELECT_ENTRIES + f" WHERE id IN ({_placeholders(len(chunk))})"
                rows += self._db.execute(query, chunk).fetchall()
        return {
            row[0]: Entry(
                id=row[0],
                sha256=row[1],
                relative_path=row[2],
                placed_path=row[3],
                state=State(row[4]),
                problem_since=_parse(row[5]),
                last_error=row[6],
            )
            for row in rows
        }

    def mark_placed(
        self, delivery_id: int, sha256: str, relative_path: str, placed_path: str
    ) -> None:
        self.mark_placed_many([(delivery_id, sha256, relative_path, placed_path)])

    def mark_placed_many(self, placed: Iterable[tuple[int, str, str, str]]) -> None:
        """Record `(id, sha256, relative_path, placed_path)` placements in one transaction: one
        sync of the journal for a whole batch of files."""
        stamp = now().isoformat()
        with self._lock, self._db:
            # One statement per row (an upsert), not an insert then an update.
            self._db.executemany(
                "INSERT INTO deliveries (id, sha256, relative_path, placed_path, state,"
                " first_seen_at, updated_at, placed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET state = excluded.state,"
                " sha256 = excluded.sha256, relative_path = excluded.relative_path,"
                " placed_path = excluded.placed_path,"
                " placed_at = COALESCE(deliveries.placed_at, excluded.placed_at),"
                " updated_at = excluded.updated_at, problem_since = NULL, last_error = NULL",
                [
                    (i, sha, rel, path, State.PLACED, stamp, stamp, stamp)
                    for i, sha, rel, path in placed
                ],
            )

    def placed_not_acked(self, limit: int = 1000) -> list[Entry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, sha256, relative_path, placed_path FROM deliveries"
                " WHERE state = ? ORDER BY id LIMIT ?",
                (State.PLACED, limit),
            ).fetchall()
        return [Entry(r[0], r[1], r[2], r[3], State.PLACED, None, None) for r in rows]

    def mark_acked(self, delivery_ids: Iterable[int]) -> None:
        stamp = now().isoformat()
        ids = list(delivery_ids)
        with self._lock, self._db:
            # One statement per few hundred rows: an acknowledged batch is a few hundred files.
            for start in range(0, len(ids), _MAX_IDS):
                chunk = ids[start : start + _MAX_IDS]
                query = _MARK_ACKED + f" WHERE id IN ({_placeholders(len(chunk))})"
                self._db.execute(query, [State.ACKED, stamp, stamp, *chunk])

    def note_problem(
        self, delivery_id: int, sha256: str, relative_path: str, message: str
    ) -> datetime:
        """Record a problem that may heal; return since when this delivery has been blocked."""
        stamp = now()
        with self._lock, self._db:
            self._insert_if_missing(delivery_id, sha256, relative_path, stamp.isoformat())
            self._db.execute(
                "UPDATE deliveries SET problem_since = COALESCE(problem_since, ?),"
                " last_error = ?, updated_at = ? WHERE id = ?",
                (stamp.isoformat(), message, stamp.isoformat(), delivery_id),
            )
            row = self._db.execute(
                "SELECT problem_since FROM deliveries WHERE id = ?", (delivery_id,)
            ).fetchone()
        since = _parse(row[0])
        return since or stamp

    def mark_failed(self, delivery_id: int, sha256: str, relative_path: str, message: str) -> None:
        self._upsert(delivery_id, sha256, relative_path, State.FAILED, last_error=message)

    def note_contact(self, *, backlog: int, root_folder: str) -> None:
        self._set_facts(
            {"last_contact": now().isoformat(), "backlog": str(backlog), "root_folder": root_folder}
        )

    def note_main_folder(self, folder: Path) -> None:
        self._set_facts({"main_folder": str(folder)})

    def note_marked(self, folder: Path) -> None:
        """This main folder got its marker: from now on, a missing one means it vanished."""
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR IGNORE INTO main_folders (path, marked_at) VALUES (?, ?)",
                (str(folder), now().isoformat()),
            )

    def was_marked(self, folder: Path) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM main_folders WHERE path = ?", (str(folder),)
            ).fetchone()
        return row is not None

    def note_error(self, message: str) -> None:
        self._set_facts({"last_error": message, "last_error_at": now().isoformat()})

    def summary(self) -> Summary:
        with self._lock:
            facts = dict(self._db.execute("SELECT key, value FROM facts").fetchall())
            counts = dict(
                self._db.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state").fetchall()
            )
        backlog = facts.get("backlog")
        return Summary(
            last_contact=_parse(facts.get("last_contact")),
            root_folder=facts.get("root_folder"),
            main_folder=facts.get("main_folder"),
            backlog=int(backlog) if backlog is not None else None,
            placed_not_acked=counts.get(State.PLACED.value, 0),
            failed=counts.get(State.FAILED.value, 0),
            acked=counts.get(State.ACKED.value, 0),
            last_error=facts.get("last_error"),
            last_error_at=_parse(facts.get("last_error_at")),
        )

    def _upsert(
        self,
        delivery_id: int,
        sha256: str,
        relative_path: str,
        state: State,
        *,
        last_error: str | None = None,
    ) -> None:
        stamp = now().isoformat()
        with self._lock, self._db:
            self._insert_if_missing(delivery_id, sha256, relative_path, stamp)
            self._db.execute(
                "UPDATE deliveries SET state = ?, sha256 = ?, relative_path = ?, updated_at = ?,"
                " last_error = COALESCE(?, last_error),"
                " problem_since = CASE WHEN ? THEN NULL ELSE problem_since END WHERE id = ?",
                # A failure closes the episode: a re-sent delivery starts with a clean slate.
                (
                    state,
                    sha256,
                    relative_path,
                    stamp,
                    last_error,
                    state == State.FAILED,
                    delivery_id,
                ),
            )

    def _insert_if_missing(
        self, delivery_id: int, sha256: str, relative_path: str, stamp: str
    ) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO deliveries"
            " (id, sha256, relative_path, state, first_seen_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (delivery_id, sha256, relative_path, State.PENDING, stamp, stamp),
        )

    def _set_facts(self, facts: dict[str, str]) -> None:
        # Facts only feed `status`: losing the last ones in a power cut is harmless, so they
        # are not worth a sync of their own on every poll (it would delay the placement).
        with self._lock:
            self._db.execute("PRAGMA synchronous=NORMAL")
            try:
                with self._db:
                    self._db.executemany(
                        "INSERT INTO facts (key, value) VALUES (?, ?)"
                        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        list(facts.items()),
                    )
            finally:
                self._db.execute("PRAGMA synchronous=FULL")


def _placeholders(count: int) -> str:
    """`?, ?, …` for an `IN (…)` list: only placeholders go into the SQL, never values."""
    return ",".join("?" * count)


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
