"""The SQLite wake-up watcher looks for queued deliveries only after another connection
committed: a look that finds no commit reads no table, so it can look every few milliseconds."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledgerdrop.delivery.wakeups import CommitWatch


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """Another process's connection to the database, in WAL mode as the server's."""
    connection = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
    connection.execute("PRAGMA journal_mode=wal")
    connection.execute("CREATE TABLE delivery (id INTEGER PRIMARY KEY)")
    yield connection
    connection.close()


@pytest.fixture
def watch(writer: sqlite3.Connection, tmp_path: Path) -> Iterator[CommitWatch]:
    watching = CommitWatch(tmp_path / "db.sqlite3")
    watching.changed()  # the first look has nothing to compare with
    yield watching
    watching.close()


def test_a_commit_by_another_connection_is_seen_once(
    writer: sqlite3.Connection, watch: CommitWatch
) -> None:
    assert not watch.changed()
    writer.execute("INSERT INTO delivery DEFAULT VALUES")
    assert watch.changed()
    assert not watch.changed()


def test_a_transaction_still_open_is_not_a_change(
    writer: sqlite3.Connection, watch: CommitWatch
) -> None:
    writer.execute("BEGIN")
    writer.execute("INSERT INTO delivery DEFAULT VALUES")

    assert not watch.changed()
    writer.execute("COMMIT")
    assert watch.changed()


def test_a_look_that_failed_counts_the_next_one_as_a_change(
    writer: sqlite3.Connection, watch: CommitWatch
) -> None:
    writer.execute("INSERT INTO delivery DEFAULT VALUES")
    assert watch.changed()  # then the query after it failed: that commit is still news

    watch.forget()

    assert watch.changed()


def test_an_in_memory_database_always_counts_as_changed() -> None:
    watch = CommitWatch("file:memorydb_default?mode=memory&cache=shared")

    assert watch.changed()
    assert watch.changed()
