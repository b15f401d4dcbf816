"""Windows file-system rules, as far as they are logic: these run on every platform."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from ledgerdrop_agent import winfs
from ledgerdrop_agent.journal import Journal


def windows_error(winerror: int, text: str) -> OSError:
    # What Windows raises: a vague errno, the precise code in `winerror`.
    error = OSError(errno.EACCES, text)
    error.winerror = winerror  # type: ignore[attr-defined]
    return error


def test_a_long_path_gets_the_extended_length_prefix() -> None:
    long = "C:\\bob-demat\\" + "d" * 240 + "\\f.xml"

    assert winfs.extended_windows_path(long) == "\\\\?\\" + long


def test_a_long_share_path_gets_the_unc_form_of_the_prefix() -> None:
    long = "\\\\server\\demat\\" + "d" * 240

    assert winfs.extended_windows_path(long) == "\\\\?\\UNC\\server\\demat\\" + "d" * 240


def test_short_relative_and_already_extended_paths_are_left_alone() -> None:
    assert winfs.extended_windows_path("C:\\bob-demat") == "C:\\bob-demat"
    assert winfs.extended_windows_path("d" * 300) == "d" * 300
    assert winfs.extended_windows_path("\\\\?\\C:\\" + "d" * 300) == "\\\\?\\C:\\" + "d" * 300


def test_messages_show_the_path_without_the_prefix() -> None:
    assert str(winfs.plain(Path("\\\\?\\C:\\bob-demat"))) == str(Path("C:\\bob-demat"))


def test_a_share_without_hard_links_is_told_apart_from_a_taken_name_or_a_refusal() -> None:
    assert winfs.links_unsupported(windows_error(winfs.ERROR_INVALID_FUNCTION, "FAT"))
    assert winfs.links_unsupported(windows_error(winfs.ERROR_NOT_SUPPORTED, "SMB"))
    assert not winfs.links_unsupported(windows_error(5, "Access is denied"))
    assert winfs.links_unsupported(OSError(errno.EPERM, "vfat on Linux"))
    assert not winfs.links_unsupported(OSError(errno.EACCES, "denied"))


def test_a_file_held_by_another_program_is_retried_until_it_is_let_go() -> None:
    attempts: list[int] = []
    pauses: list[float] = []

    def link() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise windows_error(winfs.ERROR_SHARING_VIOLATION, "in use")
        return "linked"

    assert winfs.retry_shared(link, sleep=pauses.append) == "linked"
    assert len(attempts) == 3
    assert pauses == list(winfs.SHARING_DELAYS[:2])


def test_a_file_held_for_good_fails_with_the_sharing_violation() -> None:
    def link() -> None:
        raise windows_error(winfs.ERROR_LOCK_VIOLATION, "locked")

    with pytest.raises(OSError) as held:
        winfs.retry_shared(link, delays=(0.0, 0.0), sleep=lambda _: None)

    assert winfs.is_sharing_violation(held.value)


def test_other_errors_are_not_retried() -> None:
    attempts: list[int] = []

    def link() -> None:
        attempts.append(1)
        raise FileExistsError(errno.EEXIST, "taken")

    with pytest.raises(FileExistsError):
        winfs.retry_shared(link, sleep=lambda _: None)
    assert len(attempts) == 1


def test_a_share_path_is_a_network_drive() -> None:
    assert winfs.on_network_drive(Path("\\\\server\\demat\\agent"))
    assert winfs.on_network_drive(Path("//server/demat/agent"))


def test_a_local_folder_is_not_a_network_drive(tmp_path: Path) -> None:
    assert not winfs.on_network_drive(tmp_path)


def test_the_journal_on_a_network_drive_uses_the_rollback_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # WAL's shared memory does not work across a network file system.
    monkeypatch.setattr("ledgerdrop_agent.journal.on_network_drive", lambda path: True)
    journal = Journal(tmp_path / "journal.sqlite3")
    try:
        journal.mark_placed(1, "a" * 64, "ACME01/achats/f.xml", "ACME01/achats/f.xml")
        mode = journal._db.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        journal.close()

    assert mode == "delete"
    assert not (tmp_path / "journal.sqlite3-wal").exists()


def test_the_journal_on_a_local_disk_uses_wal(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    try:
        mode = journal._db.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        journal.close()

    assert mode == "wal"
