from __future__ import annotations

import sqlite3
from pathlib import Path

from ledgerdrop_agent.journal import Journal, State

SHA = "a" * 64


def test_a_placement_survives_a_restart_until_acknowledged(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    journal.mark_placed(7, SHA, "A/achats/f.xml", "A/achats/f (2).xml")
    journal.close()

    reopened = Journal(tmp_path / "journal.sqlite3")
    pending = reopened.placed_not_acked()
    reopened.mark_acked([7])

    assert [(e.id, e.placed_path) for e in pending] == [(7, "A/achats/f (2).xml")]
    assert reopened.get(7).state is State.ACKED  # type: ignore[union-attr]
    assert reopened.placed_not_acked() == []
    reopened.close()


def test_the_journal_uses_write_ahead_logging(tmp_path: Path) -> None:
    Journal(tmp_path / "journal.sqlite3").close()

    with sqlite3.connect(tmp_path / "journal.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_problem_keeps_the_time_it_first_appeared(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    first = journal.note_problem(3, SHA, "A/f.xml", "disk full")
    again = journal.note_problem(3, SHA, "A/f.xml", "disk still full")

    assert again == first
    assert journal.get(3).last_error == "disk still full"  # type: ignore[union-attr]
    journal.mark_failed(3, SHA, "A/f.xml", "disk full for an hour")
    assert journal.get(3).problem_since is None  # type: ignore[union-attr]
    summary = journal.summary()
    assert (summary.failed, summary.placed_not_acked) == (1, 0)
    journal.close()


def test_a_long_list_of_offers_is_looked_up_at_once_and_unknown_ones_are_absent(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    journal.mark_placed_many((n, SHA, f"A/{n}.xml", f"A/{n}.xml") for n in range(0, 2000, 2))

    found = journal.get_many(range(2000))

    assert sorted(found) == list(range(0, 2000, 2))
    assert found[1998].placed_path == "A/1998.xml"
    assert found[1998].state is State.PLACED
    journal.close()


def test_a_batch_of_acknowledgements_longer_than_one_statement_is_recorded(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    journal.mark_placed_many((n, SHA, f"A/{n}.xml", f"A/{n}.xml") for n in range(1, 2001))

    journal.mark_acked(range(1, 2001))

    assert journal.placed_not_acked() == []
    assert journal.summary().acked == 2000
    journal.close()
