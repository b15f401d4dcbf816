from __future__ import annotations

import errno
import hashlib
import shutil
import sys
from pathlib import Path
from typing import BinaryIO

import pytest

from ledgerdrop_agent import placer as placer_module
from ledgerdrop_agent.placer import (
    ChecksumMismatchError,
    PlacementError,
    Placer,
    resolve_root,
)

INVOICE = b"<Invoice>one</Invoice>"
OTHER_INVOICE = b"<Invoice>two</Invoice>"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def writer(data: bytes):  # type: ignore[no-untyped-def]
    def fill(out: BinaryIO) -> None:
        out.write(data)

    return fill


def deliver(placer: Placer, delivery_id: int, path: str, data: bytes) -> str:
    staged = placer.stage(delivery_id, len(data), sha(data), writer(data))
    return placer.place(staged, path, sha(data)).placed_path


# Each way a file can be moved into place: a rename that refuses to replace (Linux), a hard
# link (where there is no such rename), a name reserved then renamed into (no links either).
@pytest.fixture(
    params=[(True, True), (False, True), (False, False)],
    ids=["no-replace-rename", "hard-link", "no-links"],
)
def placer(request: pytest.FixtureRequest, root: Path) -> Placer:
    no_replace_rename, hard_links = request.param
    prepared = Placer(root, hard_links=hard_links, no_replace_rename=no_replace_rename)
    prepared.prepare()
    return prepared


def test_a_file_lands_at_its_path_and_staging_is_left_empty(placer: Placer, root: Path) -> None:
    placed = deliver(placer, 1, "ACME01/achats/f.xml", INVOICE)

    assert placed == "ACME01/achats/f.xml"
    assert (root / "ACME01/achats/f.xml").read_bytes() == INVOICE
    assert list(placer.staging.iterdir()) == []


def test_a_file_is_never_overwritten_by_a_different_one(placer: Placer, root: Path) -> None:
    target = root / "ACME01/achats/f.xml"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"the accountant's own file")

    placed = deliver(placer, 1, "ACME01/achats/f.xml", INVOICE)

    assert target.read_bytes() == b"the accountant's own file"
    assert placed == "ACME01/achats/f (2).xml"
    assert (root / placed).read_bytes() == INVOICE


def test_each_further_conflict_gets_the_next_number(placer: Placer, root: Path) -> None:
    deliver(placer, 1, "ACME01/ventes/f.xml", INVOICE)
    second = deliver(placer, 2, "ACME01/ventes/f.xml", OTHER_INVOICE)
    third = deliver(placer, 3, "ACME01/ventes/f.xml", b"<Invoice>three</Invoice>")

    assert (second, third) == ("ACME01/ventes/f (2).xml", "ACME01/ventes/f (3).xml")
    assert sorted(p.name for p in (root / "ACME01/ventes").iterdir()) == [
        "f (2).xml",
        "f (3).xml",
        "f.xml",
    ]


def test_an_identical_file_already_there_is_not_duplicated(placer: Placer, root: Path) -> None:
    deliver(placer, 1, "ACME01/achats/f.xml", INVOICE)
    staged = placer.stage(2, len(INVOICE), sha(INVOICE), writer(INVOICE))

    placement = placer.place(staged, "ACME01/achats/f.xml", sha(INVOICE))

    assert placement.already_there
    assert placement.placed_path == "ACME01/achats/f.xml"
    assert [p.name for p in (root / "ACME01/achats").iterdir()] == ["f.xml"]
    assert not staged.exists()


def test_an_identical_file_under_a_suffix_is_found_again(placer: Placer, root: Path) -> None:
    (root / "A").mkdir()
    (root / "A/f.xml").write_bytes(b"someone else's")
    first = deliver(placer, 1, "A/f.xml", INVOICE)
    again = deliver(placer, 1, "A/f.xml", INVOICE)

    assert first == again == "A/f (2).xml"
    assert len(list((root / "A").iterdir())) == 2


def test_wrong_bytes_leave_nothing_behind(placer: Placer, root: Path) -> None:
    with pytest.raises(ChecksumMismatchError):
        placer.stage(1, len(INVOICE), sha(INVOICE), writer(OTHER_INVOICE))
    with pytest.raises(ChecksumMismatchError):
        placer.stage(2, len(INVOICE), sha(INVOICE), writer(INVOICE[:-1]))

    assert list(placer.staging.iterdir()) == []
    assert [p.name for p in root.iterdir()] == [".ledgerdrop-staging"]


def test_a_download_cut_short_leaves_no_staging_file(placer: Placer) -> None:
    def broken(out: BinaryIO) -> None:
        out.write(INVOICE[:5])
        raise RuntimeError("network gone")

    with pytest.raises(RuntimeError):
        placer.stage(1, len(INVOICE), sha(INVOICE), broken)

    assert list(placer.staging.iterdir()) == []


def test_staging_leftovers_of_a_crash_are_removed(placer: Placer) -> None:
    (placer.staging / "delivery-4.part").write_bytes(b"half a fil")
    (placer.staging / "delivery-5.part").write_bytes(b"")

    assert placer.clear_staging() == 2
    assert list(placer.staging.iterdir()) == []


def test_a_name_reserved_just_before_a_crash_is_given_back(root: Path) -> None:
    placer = Placer(root, hard_links=False)
    placer.prepare()
    # What a crash between reserving the name and renaming into it leaves on disk.
    (root / "A").mkdir()
    (root / "A/f.xml").write_bytes(b"")
    (placer.staging / "delivery-9.part").write_bytes(INVOICE)
    (placer.staging / "delivery-9.target").write_text("A/f.xml")

    placer.clear_staging()

    assert list((root / "A").iterdir()) == []
    assert list(placer.staging.iterdir()) == []


@pytest.mark.skipif(sys.platform != "linux", reason="plays a full disk with Linux's /dev/full")
def test_a_full_disk_is_reported_as_disk_full_and_leaves_no_staging_file(root: Path) -> None:
    placer = Placer(root)
    placer.prepare()
    # /dev/full answers every write with ENOSPC, as a full disk does.
    placer.staging_file(3).symlink_to("/dev/full")

    with pytest.raises(PlacementError) as full:
        placer.stage(3, len(INVOICE), sha(INVOICE), writer(INVOICE * 10_000))

    assert full.value.reason == "disk_full"
    assert not full.value.permanent
    assert list(placer.staging.iterdir()) == []


def test_a_missing_main_folder_is_not_created(tmp_path: Path) -> None:
    placer = Placer(tmp_path / "unplugged-drive")

    with pytest.raises(PlacementError) as missing:
        placer.prepare()

    assert missing.value.reason == "folder_missing"
    assert not (tmp_path / "unplugged-drive").exists()


def test_a_main_folder_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bob-demat").write_text("not a folder")

    with pytest.raises(PlacementError) as refused:
        Placer(tmp_path / "bob-demat").prepare()

    assert refused.value.reason == "folder_missing"


@pytest.mark.skipif(sys.platform == "win32", reason="on Windows such a folder is this machine's")
@pytest.mark.parametrize("configured", [r"c:\bob-demat", "C:/bob-demat", r"\\server\demat"])
def test_a_windows_main_folder_on_this_os_is_refused_clearly(configured: str) -> None:
    with pytest.raises(PlacementError) as refused:
        resolve_root(configured)

    assert refused.value.reason == "folder_missing"
    assert refused.value.permanent
    assert "Windows path" in refused.value.message
    assert "--root" in refused.value.message


def test_root_override_wins_and_home_is_expanded(tmp_path: Path) -> None:
    assert resolve_root(r"c:\bob-demat", tmp_path) == tmp_path
    assert resolve_root("~/bob-demat") == Path.home() / "bob-demat"


def test_listed_folders_are_created_and_hostile_ones_refused(placer: Placer, root: Path) -> None:
    problems = placer.make_folders(["ACME01/achats", "ACME01/ventes", "../escape", "C:/x"])

    assert (root / "ACME01/achats").is_dir()
    assert (root / "ACME01/ventes").is_dir()
    assert [p.reason for p in problems] == ["unsafe_path", "unsafe_path"]
    assert not (root.parent / "escape").exists()


@pytest.mark.skipif(placer_module._rename_no_replace is None, reason="no renameat2 here")
def test_the_no_replace_rename_refuses_a_taken_name_and_leaves_both_files(root: Path) -> None:
    rename_no_replace = placer_module._rename_no_replace
    assert rename_no_replace is not None
    (root / "staged").write_bytes(INVOICE)
    (root / "taken").write_bytes(b"the accountant's own file")

    with pytest.raises(FileExistsError):
        rename_no_replace(str(root / "staged"), str(root / "taken"))

    assert (root / "staged").read_bytes() == INVOICE
    assert (root / "taken").read_bytes() == b"the accountant's own file"


def test_a_file_system_without_the_no_replace_rename_falls_back_to_links_for_good(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[str] = []

    def unsupported(source: str, target: str) -> None:
        attempts.append(target)
        raise OSError(errno.EINVAL, "Invalid argument", source, None, target)

    monkeypatch.setattr(placer_module, "_rename_no_replace", unsupported)
    placer = Placer(root)
    placer.prepare()
    (root / "A").mkdir()
    (root / "A/f.xml").write_bytes(b"the accountant's own file")

    first = deliver(placer, 1, "A/f.xml", INVOICE)
    second = deliver(placer, 2, "A/g.xml", OTHER_INVOICE)

    assert (first, second) == ("A/f (2).xml", "A/g.xml")
    assert (root / "A/f.xml").read_bytes() == b"the accountant's own file"
    assert (root / first).read_bytes() == INVOICE
    assert (root / second).read_bytes() == OTHER_INVOICE
    assert list(placer.staging.iterdir()) == []
    assert len(attempts) == 1  # asked once, not for every file


def test_a_folder_removed_between_two_files_is_made_again(placer: Placer, root: Path) -> None:
    deliver(placer, 1, "ACME01/achats/f.xml", INVOICE)
    shutil.rmtree(root / "ACME01")

    placed = deliver(placer, 2, "ACME01/achats/g.xml", OTHER_INVOICE)

    assert placed == "ACME01/achats/g.xml"
    assert (root / placed).read_bytes() == OTHER_INVOICE
    assert list(placer.staging.iterdir()) == []
