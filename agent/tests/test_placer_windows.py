"""Placing files where Windows differs: binary bytes, bytes checked as they lie on disk, files
held open by other programs, drives without hard links, long paths, case-insensitive names.
Run on Linux and in the Windows leg (the embeddable CPython under Wine)."""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import sys
import threading
from pathlib import Path

import pytest

from ledgerdrop_agent import placer as placer_module
from ledgerdrop_agent import winfs
from ledgerdrop_agent.placer import ChecksumMismatchError, PlacementError, Placer, resolve_root

# Lines end in \n, as UBL does; a text-mode write would make them \r\n.
UBL = b'<?xml version="1.0"?>\n<Invoice>\n  <ID>2026-0042</ID>\n</Invoice>\n'


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def windows_error(winerror: int, text: str) -> OSError:
    error = OSError(errno.EACCES, text)
    error.winerror = winerror  # type: ignore[attr-defined]
    return error


@pytest.fixture(autouse=True)
def no_renameat2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows has no renameat2: on Linux too, these tests place with links (or renames)."""
    monkeypatch.setattr(placer_module, "_rename_no_replace", None)


@pytest.fixture
def placer(root: Path) -> Placer:
    prepared = Placer(root)
    prepared.prepare()
    return prepared


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(winfs, "SHARING_DELAYS", (0.01, 0.02))


def place_bytes(placer: Placer, delivery_id: int, path: str, data: bytes) -> str:
    staged = placer.stage_bytes(delivery_id, len(data), sha(data), data, sync=False)
    placer.make_durable(files=[staged])
    return placer.place(staged, path, sha(data)).placed_path


def test_bytes_from_a_bundle_land_byte_for_byte_with_their_line_ends(
    placer: Placer, root: Path
) -> None:
    placed = place_bytes(placer, 1, "ACME01/ventes/f.xml", UBL)

    assert (root / placed).read_bytes() == UBL


def test_a_download_lands_byte_for_byte_with_their_line_ends(placer: Placer, root: Path) -> None:
    staged = placer.stage(2, len(UBL), sha(UBL), lambda out: out.write(UBL))
    placed = placer.place(staged, "ACME01/achats/f.xml", sha(UBL)).placed_path

    assert (root / placed).read_bytes() == UBL


def test_bytes_changed_on_their_way_to_the_disk_are_caught_before_placement(
    placer: Placer, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write

    def text_mode_write(fd: int, data: bytes | memoryview) -> int:
        # What the C runtime's text mode does on Windows: \n becomes \r\n on disk.
        real_write(fd, bytes(data).replace(b"\n", b"\r\n"))
        return len(data)

    monkeypatch.setattr(os, "write", text_mode_write)
    with pytest.raises(ChecksumMismatchError):
        placer.stage_bytes(3, len(UBL), sha(UBL), UBL)
    monkeypatch.undo()

    assert list(placer.staging.iterdir()) == []
    assert not (root / "ACME01").exists()


def test_bytes_are_read_back_and_checked_where_there_is_no_preadv(
    placer: Placer, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Windows' path: the staged file is read back through a file object.
    monkeypatch.setattr(placer_module, "_preadv", None)
    placed = place_bytes(placer, 13, "ACME01/ventes/f.xml", UBL)
    with pytest.raises(ChecksumMismatchError):
        placer.stage_bytes(14, len(UBL), sha(UBL[::-1]), UBL)

    assert (root / placed).read_bytes() == UBL
    assert list(placer.staging.iterdir()) == []


def test_files_are_made_durable_one_by_one_where_there_is_no_syncfs(
    placer: Placer, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Windows' path: FlushFileBuffers per file, through a handle open for writing.
    monkeypatch.setattr(placer_module, "_syncfs", None)
    staged = placer.stage_bytes(4, len(UBL), sha(UBL), UBL, sync=False)

    placer.make_durable(files=[staged], folders=[placer.staging])

    assert Path(staged).read_bytes() == UBL


def test_a_drive_without_hard_links_falls_back_and_still_never_overwrites(
    placer: Placer, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(source: Path, target: Path) -> None:
        raise windows_error(winfs.ERROR_INVALID_FUNCTION, "Incorrect function (FAT)")

    monkeypatch.setattr(os, "link", no_links)
    (root / "ACME01/achats").mkdir(parents=True)
    (root / "ACME01/achats/f.xml").write_bytes(b"the accountant's own file")

    first = place_bytes(placer, 5, "ACME01/achats/f.xml", UBL)
    second = place_bytes(placer, 6, "ACME01/achats/g.xml", UBL)

    assert (first, second) == ("ACME01/achats/f (2).xml", "ACME01/achats/g.xml")
    assert (root / "ACME01/achats/f.xml").read_bytes() == b"the accountant's own file"
    assert (root / first).read_bytes() == UBL
    assert list(placer.staging.iterdir()) == []


def test_a_staged_file_briefly_held_by_an_antivirus_is_placed(
    placer: Placer, root: Path, monkeypatch: pytest.MonkeyPatch, quick_retries: None
) -> None:
    real_link = os.link
    refusals = [1, 1]

    def scanned_link(source: Path, target: Path) -> None:
        if refusals:
            refusals.pop()
            raise windows_error(winfs.ERROR_SHARING_VIOLATION, "in use by another process")
        real_link(source, target)

    monkeypatch.setattr(os, "link", scanned_link)

    placed = place_bytes(placer, 7, "ACME01/achats/f.xml", UBL)

    assert (root / placed).read_bytes() == UBL
    assert refusals == []


def test_a_file_held_for_good_fails_with_the_reason_and_is_retried_later(
    placer: Placer, root: Path, monkeypatch: pytest.MonkeyPatch, quick_retries: None
) -> None:
    def held_link(source: Path, target: Path) -> None:
        raise windows_error(winfs.ERROR_SHARING_VIOLATION, "in use by another process")

    monkeypatch.setattr(os, "link", held_link)

    with pytest.raises(PlacementError) as held:
        place_bytes(placer, 8, "ACME01/achats/f.xml", UBL)

    assert "in use by another program" in held.value.message
    assert not held.value.permanent
    assert list(placer.staging.iterdir()) == []
    assert not (root / "ACME01/achats/f.xml").exists()


def test_a_path_beyond_260_characters_is_placed(tmp_path: Path) -> None:
    root = tmp_path.joinpath(*["a-rather-long-folder-name-of-the-firm"] * 5)
    root.mkdir(parents=True)
    placer = Placer(root)
    placer.prepare()
    relative = "/".join(["D" * 60] * 3) + "/" + "f" * 10 + ".xml"
    assert len(str(root)) + len(relative) > 260

    placed = place_bytes(placer, 9, relative, UBL)

    assert placed == relative
    assert (winfs.extended(root) / placed).read_bytes() == UBL


def test_a_name_differing_only_in_case_never_overwrites(placer: Placer, root: Path) -> None:
    (root / "ACME01/achats").mkdir(parents=True)
    (root / "ACME01/achats/F.XML").write_bytes(b"the accountant's own file")

    placed = place_bytes(placer, 10, "ACME01/achats/f.xml", UBL)

    assert (root / "ACME01/achats/F.XML").read_bytes() == b"the accountant's own file"
    assert (root / placed).read_bytes() == UBL
    contents = {p.read_bytes() for p in (root / "ACME01/achats").iterdir()}
    assert contents == {b"the accountant's own file", UBL}


@pytest.mark.skipif(sys.platform != "win32", reason="needs Windows' file sharing modes")
def test_a_file_opened_without_sharing_by_another_program_is_placed_once_let_go(
    placer: Placer, root: Path
) -> None:
    staged = placer.stage_bytes(11, len(UBL), sha(UBL), UBL)
    held = _open_exclusively(staged)
    threading.Timer(0.2, _close, [held]).start()

    placed = placer.place(staged, "ACME01/achats/f.xml", sha(UBL)).placed_path

    assert (root / placed).read_bytes() == UBL


@pytest.mark.skipif(sys.platform != "win32", reason="needs Windows' file sharing modes")
def test_a_name_taken_by_a_file_open_in_the_accounting_software_is_left_alone(
    placer: Placer, root: Path
) -> None:
    (root / "ACME01/achats").mkdir(parents=True)
    theirs = root / "ACME01/achats/f.xml"
    theirs.write_bytes(b"being imported")
    held = _open_exclusively(theirs)
    try:
        with pytest.raises(PlacementError) as refused:
            place_bytes(placer, 12, "ACME01/achats/f.xml", UBL)
    finally:
        _close(held)

    assert "in use by another program" in refused.value.message
    assert theirs.read_bytes() == b"being imported"


def _open_exclusively(path: Path) -> int:
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined, unused-ignore]
    kernel32.CreateFileW.restype = ctypes.c_void_p
    generic_read, no_sharing, open_existing = 0x80000000, 0, 3
    handle: int = kernel32.CreateFileW(
        str(path), generic_read, no_sharing, None, open_existing, 0, None
    )
    assert handle not in (None, ctypes.c_void_p(-1).value), ctypes.get_last_error()  # type: ignore[attr-defined, unused-ignore]
    return handle


def _close(handle: int) -> None:
    kernel32 = ctypes.WinDLL("kernel32")  # type: ignore[attr-defined, unused-ignore]
    kernel32.CloseHandle(ctypes.c_void_p(handle))


@pytest.mark.skipif(sys.platform != "win32", reason="a Windows main folder is Windows' own")
@pytest.mark.parametrize("configured", [r"c:\bob-demat", "C:/bob-demat", r"\\server\demat"])
def test_a_windows_main_folder_is_used_as_set_on_windows(configured: str) -> None:
    assert resolve_root(configured) == Path(configured)
