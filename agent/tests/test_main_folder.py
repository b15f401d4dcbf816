"""The main folder is made the first time it is set, marked, never made again once it vanished,
and its state is told to the server (which shows it instead of "online")."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from device_server import DeviceServer

from ledgerdrop_agent.journal import Journal
from ledgerdrop_agent.mainfolder import MARKER
from ledgerdrop_agent.runner import Runner
from ledgerdrop_protocol import routes

INVOICE = b"<Invoice>main folder</Invoice>"


def test_a_fresh_main_folder_is_made_and_marked_when_its_parent_exists(
    server: DeviceServer, runner: Runner, tmp_path: Path
) -> None:
    server.root_folder = str(tmp_path / "bob-demat-new")
    server.add("ACME01/ventes/f.xml", INVOICE)

    assert runner.run_once()

    assert (tmp_path / "bob-demat-new/ACME01/ventes/f.xml").read_bytes() == INVOICE
    assert (tmp_path / "bob-demat-new" / MARKER).is_file()
    assert server.statuses == [{"main_folder": str(tmp_path / "bob-demat-new"), "message": ""}]


def test_an_existing_main_folder_is_adopted_with_its_files(
    server: DeviceServer, runner: Runner, root: Path
) -> None:
    (root / "ACME01").mkdir()
    (root / "ACME01/notes.txt").write_text("the accountant's own file")
    server.add("ACME01/ventes/f.xml", INVOICE)

    assert runner.run_once()

    assert (root / MARKER).is_file()
    assert (root / "ACME01/notes.txt").read_text() == "the accountant's own file"


def test_a_main_folder_whose_parent_is_missing_is_reported_missing(
    server: DeviceServer, runner: Runner, tmp_path: Path
) -> None:
    server.root_folder = str(tmp_path / "no-drive" / "bob-demat")
    server.add("ACME01/ventes/f.xml", INVOICE)

    assert not runner.run_once()

    assert not (tmp_path / "no-drive").exists()
    [status] = server.statuses
    assert status["problem"] == "missing"
    assert str(tmp_path / "no-drive") in status["message"]
    assert server.deliveries[1].state == "queued"  # it heals once the folder is there


def test_a_vanished_main_folder_is_not_made_again_and_reported(
    server: DeviceServer, runner: Runner, root: Path
) -> None:
    server.add("ACME01/ventes/f1.xml", INVOICE)
    assert runner.run_once()
    shutil.rmtree(root)  # the drive is unplugged; its parent (the mount point) stays
    server.add("ACME01/ventes/f2.xml", INVOICE + b"2")

    assert not runner.run_once()

    assert not root.exists()
    assert server.deliveries[2].state == "queued"
    assert server.fail_reports == {}
    assert server.statuses[-1]["problem"] == "vanished"
    assert str(root) in server.statuses[-1]["message"]


def test_an_empty_mount_point_in_place_of_a_marked_main_folder_takes_nothing(
    server: DeviceServer, runner: Runner, root: Path
) -> None:
    server.add("ACME01/ventes/f1.xml", INVOICE)
    assert runner.run_once()
    shutil.rmtree(root)
    root.mkdir()  # what an unmounted share leaves behind
    server.add("ACME01/ventes/f2.xml", INVOICE + b"2")

    assert not runner.run_once()

    assert list(root.iterdir()) == []
    assert server.statuses[-1]["problem"] == "vanished"


def test_a_vanished_main_folder_is_remembered_across_restarts_and_heals_when_back(
    server: DeviceServer, make_runner: Callable[..., Runner], root: Path, journal: Journal
) -> None:
    server.add("ACME01/ventes/f1.xml", INVOICE)
    assert make_runner().run_once()
    backup = root.with_name("unplugged-drive")
    root.rename(backup)
    server.add("ACME01/ventes/f2.xml", INVOICE + b"2")

    assert not make_runner().run_once()  # a new process, the same journal
    assert not root.exists()

    backup.rename(root)  # the drive is back, marker and all
    restarted = make_runner()
    assert restarted.run_once()
    assert (root / "ACME01/ventes/f2.xml").read_bytes() == INVOICE + b"2"
    assert server.statuses[-1] == {"main_folder": str(root), "message": ""}


def test_the_state_is_told_once_per_change_not_at_every_poll(
    server: DeviceServer, runner: Runner, root: Path
) -> None:
    for _ in range(3):
        runner.cycle(0)
    root.rename(root.with_name("away"))
    for _ in range(3):
        runner.cycle(0)

    assert [s.get("problem") for s in server.statuses] == [None, "vanished"]


def test_an_older_server_without_the_status_endpoint_is_not_asked_again(
    server: DeviceServer, runner: Runner, root: Path
) -> None:
    server.status_endpoint = False
    runner.cycle(0)
    root.rename(root.with_name("away"))
    runner.cycle(0)

    assert server.paths("POST").count(routes.STATUS.url()) == 1


@pytest.mark.skipif(sys.platform == "win32", reason="a Windows main folder is Windows' own")
def test_a_windows_main_folder_on_linux_is_reported_refused(
    server: DeviceServer, runner: Runner
) -> None:
    server.root_folder = r"c:\bob-demat"

    runner.cycle(0)

    [status] = server.statuses
    assert (status["main_folder"], status["problem"]) == (r"c:\bob-demat", "refused")
    assert "Windows path" in status["message"]
