"""The shared rules for main folders and placed files, as both the service and the downloader
apply them. Windows forms are judged with Windows rules here on Linux."""

from __future__ import annotations

import pytest

from ledgerdrop_protocol.paths import (
    Refusal,
    folder_problem,
    main_folder_problem,
    payload_problem,
    same_folder,
)

ACCEPTED = [
    r"c:\bob-demat",
    r"C:\BOB\Demat",
    "D:/Demat",
    r"D:\Compta\bob-demat",
    r"C:\Users\kevin\Documents\bob-demat",
    r"C:\Users\Public\Documents\bob-demat",
    "/srv/bob-demat",
    "/home/kevin/bob-demat",
    "/root/bob-demat",
    "/mnt/compta/bob-demat",
    "/var/bob-demat",
    "/tmp/bob-demat",
    "~/bob-demat",
    "~/Documents/Compta",
]

REFUSED = [
    ("", Refusal.NOT_ABSOLUTE),
    ("bob-demat", Refusal.NOT_ABSOLUTE),
    ("C:", Refusal.NOT_ABSOLUTE),
    ("C:bob-demat", Refusal.NOT_ABSOLUTE),
    (r"\bob-demat", Refusal.NOT_ABSOLUTE),
    ("$HOME/bob", Refusal.NOT_ABSOLUTE),
    ("C:\\", Refusal.ROOT),
    ("d:/", Refusal.ROOT),
    ("/", Refusal.ROOT),
    (r"C:\Windows", Refusal.SYSTEM),
    (r"c:\windows\system32", Refusal.SYSTEM),
    ("C:/WINDOWS/Tasks", Refusal.SYSTEM),
    (r"C:\$Recycle.Bin\x", Refusal.SYSTEM),
    (r"C:\Program Files\Sage", Refusal.PROGRAMS),
    (r"C:\Program Files (x86)\Sage\BOB 50", Refusal.PROGRAMS),
    (r"C:\ProgramData\Microsoft\Windows\Start Menu\Programs\StartUp", Refusal.PROGRAMS),
    (r"C:\Users", Refusal.PROFILE),
    (r"C:\Users\kevin", Refusal.PROFILE),
    (r"C:\Users\Default\Documents", Refusal.PROFILE),
    (
        r"C:\Users\kevin\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup",
        Refusal.PROFILE,
    ),
    (r"C:\Users\kevin\.ssh", Refusal.PROFILE),
    (r"D:\Menu\Start Menu\Programs", Refusal.STARTUP),
    (r"D:\Data\Startup", Refusal.STARTUP),
    (r"C:\PROGRA~1\Sage", Refusal.NOT_PLAIN),
    (r"C:\bob-demat\..\Windows", Refusal.NOT_PLAIN),
    (r"C:\Windows.\System32", Refusal.NOT_PLAIN),
    (r"C:\bob-demat:hidden", Refusal.NOT_PLAIN),
    (r"%APPDATA%\bob", Refusal.NOT_ABSOLUTE),
    (r"C:\%USERPROFILE%\bob", Refusal.NOT_PLAIN),
    (r"\\?\C:\bob-demat", Refusal.NOT_PLAIN),
    (r"\\.\PhysicalDrive0", Refusal.NOT_PLAIN),
    # A device name (CON, NUL, COM1…) or a character Windows refuses in a name: the folder
    # could never be made, so it is refused where it is typed, not at the first delivery.
    (r"C:\bob-demat\CON", Refusal.NOT_PLAIN),
    (r"D:\nul.txt\bob", Refusal.NOT_PLAIN),
    (r"\\nas\compta\COM1", Refusal.NOT_PLAIN),
    (r"C:\bob<demat>", Refusal.NOT_PLAIN),
    (r"C:\bob|demat", Refusal.NOT_PLAIN),
    (r"C:\bob-demat?", Refusal.NOT_PLAIN),
    (r"C:\bob*", Refusal.NOT_PLAIN),
    (r"\\evil.example\share", Refusal.NETWORK),
    (r"\\nas\compta\bob-demat", Refusal.NETWORK),
    ("//nas/compta/bob-demat", Refusal.NETWORK),
    (r"\\nas\c$", Refusal.ROOT),
    (r"\\nas\C$\Windows", Refusal.SYSTEM),
    (r"\\nas\ADMIN$", Refusal.SYSTEM),
    (r"\\nas\IPC$\x", Refusal.SYSTEM),
    (r"\\nas\share\Startup", Refusal.STARTUP),
    ("/etc", Refusal.SYSTEM),
    ("/etc/xdg/autostart", Refusal.SYSTEM),
    ("/usr/local/bin", Refusal.SYSTEM),
    ("/boot/efi", Refusal.SYSTEM),
    ("/var", Refusal.SYSTEM),
    ("/var/spool/cron", Refusal.SYSTEM),
    ("/private/etc/periodic", Refusal.SYSTEM),
    ("/opt/sage", Refusal.PROGRAMS),
    ("/Applications/Sage.app", Refusal.PROGRAMS),
    ("/home", Refusal.PROFILE),
    ("/home/kevin", Refusal.PROFILE),
    ("/root", Refusal.PROFILE),
    ("/home/kevin/.config/autostart", Refusal.PROFILE),
    ("/home/kevin/.local/share/applications", Refusal.PROFILE),
    ("/Users/kevin/Library/LaunchAgents", Refusal.PROFILE),
    ("/srv/share/.bashrc.d", Refusal.PROFILE),
    ("/srv/autostart", Refusal.STARTUP),
    ("~", Refusal.PROFILE),
    ("~/.config/autostart", Refusal.PROFILE),
    ("~kevin", Refusal.PROFILE),
    ("~/../../etc", Refusal.NOT_PLAIN),
]


@pytest.mark.parametrize("folder", ACCEPTED)
def test_ordinary_main_folders_are_accepted(folder: str) -> None:
    assert main_folder_problem(folder) is None


@pytest.mark.parametrize(("folder", "refusal"), REFUSED, ids=[f for f, _ in REFUSED])
def test_dangerous_main_folders_are_refused_with_their_reason(
    folder: str, refusal: Refusal
) -> None:
    problem = main_folder_problem(folder)

    assert problem is not None
    assert problem.refusal is refusal
    assert problem.message


@pytest.mark.parametrize("folder", [r"\\nas\compta\bob-demat", "//nas/compta/bob", r"\\nas\d$\bob"])
def test_a_network_folder_passes_only_where_network_folders_are_allowed(folder: str) -> None:
    assert main_folder_problem(folder, network_allowed=True) is None


@pytest.mark.parametrize(
    "folder", [r"\\nas\ADMIN$", r"\\nas\c$", r"\\nas\share\Start Menu", r"\\nas\s\AppData"]
)
def test_allowing_network_folders_never_allows_a_system_or_startup_one(folder: str) -> None:
    assert main_folder_problem(folder, network_allowed=True) is not None


def test_windows_spellings_of_one_folder_are_the_same_folder() -> None:
    assert same_folder(r"\\NAS\Compta\Bob", "//nas/compta/bob/")
    assert same_folder(r"C:\Bob-Demat", "c:/bob-demat")
    assert not same_folder("/srv/Bob", "/srv/bob")


@pytest.mark.parametrize(
    "path", ["ACME01/achats/20260101_x.xml", "ACME01/ventes/F-1.pdf", "A/b/UPPER.XML"]
)
def test_connector_payloads_in_their_shape_are_accepted(path: str) -> None:
    assert payload_problem(path) is None


@pytest.mark.parametrize(
    "path",
    [
        "ACME01/achats/run.bat",
        "ACME01/achats/evil.desktop",
        "ACME01/achats/invoice.xml.lnk",
        "ACME01/achats/invoice",
        "ACME01/achats/.xml",
        "evil.xml",
        "ACME01/evil.xml",
        "ACME01/achats/2026/evil.xml",
    ],
)
def test_other_types_and_depths_are_refused(path: str) -> None:
    assert payload_problem(path)


def test_only_dossier_folders_and_their_sub_folders_are_created() -> None:
    assert folder_problem("ACME01") is None
    assert folder_problem("ACME01/achats") is None
    assert folder_problem("ACME01/achats/deeper")
