"""The real downloader against a hostile server: whatever main folder, path or file type it
offers, nothing lands outside `<main folder>/<dossier>/<sub-folder>/<file>.xml|.pdf`, and every
refusal is reported failed with its reason."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from device_server import TOKEN, DeviceServer

from ledgerdrop_agent.cli import main
from ledgerdrop_agent.config import Credential, save_credential
from ledgerdrop_agent.policy import mount_type
from ledgerdrop_protocol import routes

INVOICE = b"<Invoice>hostile</Invoice>"
PAYLOAD = b"#!/bin/sh\necho owned\n"


@pytest.fixture
def paired(home: Path, server: DeviceServer) -> Path:
    save_credential(home, Credential(server.url, 7, TOKEN))
    return home


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def run_downloader(home: Path) -> subprocess.CompletedProcess[str]:
    """`ledgerdrop-agent run --once` as its own process, as a user or a service starts it."""
    env = {**os.environ, "LEDGERDROP_AGENT_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "ledgerdrop_agent", "run", "--once", "--log-file"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_hostile_paths_and_types_are_refused_and_only_payloads_are_placed(
    paired: Path, server: DeviceServer, root: Path, tmp_path: Path
) -> None:
    allowed = {
        "ACME01/achats/20260101_F-1.xml": INVOICE,
        "ACME01/ventes/20260101_F-2.pdf": b"%PDF-1.7 hostile",
        "ACME01/ventes/20260102_F-3.XML": INVOICE,
    }
    hostile = [
        "ACME01/achats/run.bat",
        "ACME01/achats/evil.desktop",
        "ACME01/achats/invoice.xml.lnk",
        "ACME01/achats/invoice.xml.exe",
        "ACME01/achats/noextension",
        "evil.xml",
        "ACME01/evil.xml",
        "ACME01/achats/deeper/evil.xml",
        ".config/autostart/evil.xml",
        "ACME01/.config/evil.xml",
        "../../escaped.xml",
        "ACME01/../../escaped.xml",
        "/etc/cron.d/evil.xml",
        "C:/Windows/evil.xml",
        "ACME01\\achats\\evil.xml",
        "\\\\evil.example\\share\\evil.xml",
        "ACME01/achats/CON.xml",
    ]
    for path, content in allowed.items():
        server.add(path, content)
    for path in hostile:
        server.add(path, PAYLOAD)
    server.folders = [
        "ACME01/achats",
        "ACME01/ventes",
        "ACME01/achats/deeper",
        ".config/autostart",
        "../escape",
        "a/b/c",
    ]

    result = run_downloader(paired)

    assert result.returncode == 1, result.stderr  # some could not be placed
    placed = files_under(root) - {p for p in files_under(root) if p.startswith(".ledgerdrop")}
    assert placed == set(allowed)
    for path, content in allowed.items():
        assert (root / path).read_bytes() == content
    outside = files_under(tmp_path) - {f"bob-demat/{p}" for p in placed}
    # The agent's own files: its home, and the marker that says the main folder is its own.
    ours = {"bob-demat/.ledgerdrop"}
    assert {p for p in outside if not p.startswith("agent-home/")} - ours == set()
    assert {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir()} == {
        ".ledgerdrop-staging",
        "ACME01",
        "ACME01/achats",
        "ACME01/ventes",
    }
    for delivery in server.deliveries.values():
        if delivery.relative_path in allowed:
            assert delivery.state == "delivered"
        else:
            report = server.fail_reports[delivery.id]
            assert report["reason"] == "unsafe_path", delivery.relative_path
            assert repr(delivery.relative_path) in report["message"]
    refused_ids = {d.id for d in server.deliveries.values() if d.relative_path not in allowed}
    fetched = [p for p in server.paths("GET") if p.endswith("/content")]
    assert not [p for p in fetched if int(p.split("/")[-2]) in refused_ids]
    type_report = server.fail_reports[len(allowed) + 1]["message"]
    assert "only .pdf, .xml files are placed" in type_report


HOSTILE_MAIN_FOLDERS = [
    ("C:\\Windows\\System32", "Windows is a system folder"),
    ("C:\\", "root of a drive"),
    (
        "C:\\Users\\kevin\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup",
        "AppData holds a user's settings",
    ),
    ("C:\\ProgramData\\Microsoft\\Windows\\Start Menu\\Programs\\StartUp", "programs"),
    ("C:\\PROGRA~1\\Sage", "short names"),
    ("\\\\?\\C:\\Windows", "device paths"),
    ("\\\\evil.example\\share", "allow-network-folder"),
    ("//evil.example/share/bob", "network folder"),
    ("/", "root of the file system"),
    ("/etc", "/etc is a system folder"),
    ("/etc/xdg/autostart", "/etc is a system folder"),
    ("/usr/local/bin", "/usr is a system folder"),
    ("~", "profile folder itself"),
    ("~/.config/autostart", ".config is a hidden settings folder"),
    ("/home/kevin/.local/share", ".local is a hidden settings folder"),
    ("relative/bob-demat", "must be absolute"),
]


@pytest.mark.parametrize(
    ("main_folder", "why"), HOSTILE_MAIN_FOLDERS, ids=[f for f, _ in HOSTILE_MAIN_FOLDERS]
)
def test_a_hostile_main_folder_is_refused_and_every_offer_reported_failed(
    paired: Path, server: DeviceServer, tmp_path: Path, main_folder: str, why: str
) -> None:
    server.root_folder = main_folder
    server.folders = ["ACME01/achats"]
    server.add("ACME01/achats/f.xml", INVOICE)
    server.add("ACME01/ventes/g.pdf", INVOICE)

    assert main(["run", "--once", "--log-file"]) == 1

    for delivery in server.deliveries.values():
        assert delivery.state == "failed"
        report = server.fail_reports[delivery.id]
        assert report["reason"] == "unsafe_main_folder"
        assert why in report["message"]
    assert not [p for p in server.paths("GET") if p.endswith("/content")]
    assert not server.paths("POST").count(routes.CONTENTS.url())
    assert {p for p in files_under(tmp_path) if not p.startswith("agent-home/")} == set()


@pytest.mark.skipif(
    sys.platform == "win32",
    reason="a POSIX symbolic link into /etc; Windows junctions need rights Wine lacks",
)
def test_a_main_folder_that_links_into_a_system_folder_is_refused(
    paired: Path, server: DeviceServer, tmp_path: Path
) -> None:
    link = tmp_path / "bob-demat-link"
    link.symlink_to("/etc")
    server.root_folder = str(link)
    server.add("ACME01/achats/f.xml", INVOICE)

    assert main(["run", "--once", "--log-file"]) == 1

    report = server.fail_reports[1]
    assert report["reason"] == "unsafe_main_folder"
    assert "/etc is a system folder" in report["message"]


@pytest.mark.skipif(
    sys.platform == "win32",
    reason="past the policy a UNC path is refused as not Linux's; on Windows it is a real share",
)
def test_a_network_folder_allowed_on_the_machine_is_no_longer_refused_by_the_policy(
    paired: Path, server: DeviceServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.root_folder = "\\\\NAS\\Compta\\bob-demat"
    server.add("ACME01/achats/f.xml", INVOICE)

    assert main(["allow-network-folder", "\\\\nas\\compta\\bob-demat"]) == 0
    assert "Allowed: \\\\nas\\compta\\bob-demat" in capsys.readouterr().out
    main(["run", "--once", "--log-file"])

    # Past the policy: this Linux test machine then says it cannot use a Windows path.
    assert server.fail_reports[1]["reason"] == "folder_missing"


def test_a_network_folder_allowed_then_removed_is_refused_again(
    paired: Path, server: DeviceServer
) -> None:
    server.root_folder = "\\\\nas\\compta\\bob-demat"
    server.add("ACME01/achats/f.xml", INVOICE)
    main(["allow-network-folder", "\\\\nas\\compta\\bob-demat"])

    assert main(["allow-network-folder", "--remove", "\\\\NAS\\compta\\bob-demat"]) == 0
    main(["run", "--once", "--log-file"])

    assert server.fail_reports[1]["reason"] == "unsafe_main_folder"


def test_allowing_a_system_folder_as_network_folder_is_refused(
    paired: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["allow-network-folder", "\\\\nas\\C$\\Windows"]) == 2

    assert "system folder" in capsys.readouterr().err
    assert not (paired / "policy.json").exists()


MOUNTINFO = r"""22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 22 0:35 / /mnt/nas rw,relatime shared:20 - cifs //nas/compta rw,vers=3.1.1
41 22 0:36 / /mnt/nas/local\040disk rw,relatime shared:21 - ext4 /dev/sdb1 rw
42 22 0:37 / /srv/nfs rw,relatime - nfs4 nas:/export rw
43 22 0:38 / /mnt/comptabilité rw,relatime - smb3 //nas/compta rw
"""


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/srv/bob-demat", "ext4"),
        ("/mnt/nas", "cifs"),
        ("/mnt/nas/bob-demat", "cifs"),
        ("/mnt/nas/local disk/bob", "ext4"),
        ("/mnt/nasty", "ext4"),
        ("/srv/nfs/bob", "nfs4"),
        ("/mnt/comptabilité/bob", "smb3"),
    ],
)
def test_the_file_system_of_a_folder_is_read_from_the_mount_table(path: str, kind: str) -> None:
    assert mount_type(path, MOUNTINFO) == kind


def test_a_refused_main_folder_is_reported_in_the_machines_language(
    paired: Path, server: DeviceServer
) -> None:
    server.root_folder = "C:\\Windows\\System32"
    server.add("ACME01/achats/f.xml", INVOICE)

    assert main(["run", "--once", "--log-file", "--lang", "fr"]) == 1

    message = server.fail_reports[1]["message"]
    assert "a été refusé par cet appareil" in message
    assert "c'est un dossier système" in message
    assert "Choisissez un dossier" in message
