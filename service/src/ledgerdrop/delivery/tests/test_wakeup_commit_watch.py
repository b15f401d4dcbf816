"""The SQLite wake-up watcher looks for queued deliveries only after another connection
committed: a look that finds no commit reads no table, so it can look every few milliseconds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ledgerdrop.delivery.wakeups import CommitWatch


def _database(path: Path) -> sqlite3.Connection:
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=wal")
    writer.execute("CREATE TABLE delivery (id INTEGER PRIMARY KEY)")
    return writer


def test_a_commit_by_another_connection_is_seen_once(tmp_path: Path) -> None:
    writer = _database(tmp_path / "db.sqlite3")
    watch = CommitWatch(tmp_path / "db.sqlite3")
    try:
        watch.changed()  # the first look has nothing to compare with

        assert not watch.changed()
        writer.execute("INSERT INTO delivery DEFAULT VALUES")
        assert watch.changed()
        assert not watch.changed()
    finally:
        watch.close()
        writer.close()


def test_a_transaction_still_open_is_not_a_change(tmp_path: Path) -> None:
    writer = _database(tmp_path / "db.sqlite3")
    watch = CommitWatch(tmp_path / "db.sqlite3")
    try:
        watch.changed()
        writer.execute("BEGIN")
        writer.execute("INSERT INTO delivery DEFAULT VALUES")

        assert not watch.changed()
        writer.execute("COMMIT")
        assert watch.changed()
    finally:
        watch.close()
        writer.close()


def test_a_look_that_failed_counts_the_next_one_as_a_change(tmp_path: Path) -> None:
    writer = _database(tmp_path / "db.sqlite3")
    watch = CommitWatch(tmp_path / "db.sqlite3")
    try:
        watch.changed()
        writer.execute("INSERT INTO delivery DEFAULT VALUES")
        assert watch.changed()  # then the query after it failed: that commit is still news

        watch.forget()

        assert watch.changed()
    finally:
        watch.close()
        writer.close()


def test_an_in_memory_database_always_counts_as_changed() -> None:
    watch = CommitWatch("file:memorydb_default?mode=memory&cache=shared")

    assert watch.changed()
    assert watch.changed()
